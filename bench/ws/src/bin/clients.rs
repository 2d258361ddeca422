//! The client benchmark: our client (rpc-hyper's `client` feature) against jsonrpsee 0.26's
//! HTTP and WebSocket clients, calling `add(2, 3)` on the same server (`ours`), and the
//! client's own CPU time per call. Driven by scripts/bench-client.sh.
//!
//! One client, built with its defaults, shared by CONCURRENCY tasks on a single-threaded
//! runtime, each calling in a loop. After a 1 s warm-up, the calls and the process's CPU time
//! (utime + stime from /proc/self/stat) are read, then again SECS later.
//!
//! Usage: clients MODE URL CONCURRENCY SECS
//!   MODE: ours-http | ours-ws | ours-https | theirs-http | theirs-ws | theirs-https
//!         (also theirs-http-nolog | theirs-ws-nolog: jsonrpsee without the request/response
//!         logger its builders install by default, to see what that logger costs)
//!   URL:  http://127.0.0.1:5301/, ws://127.0.0.1:5301/ or https://localhost:5302/ (the CA
//!         in the PEM file $BENCH_CA; both clients on rustls with ring)
//! Prints: calls_per_s=N client_cpu_us_per_call=X

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::middleware::RpcServiceBuilder;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;

/// Clock ticks per second of /proc/PID/stat's times (`getconf CLK_TCK`: 100 on Linux).
const TICKS_PER_S: u64 = 100;

/// The process's CPU time so far (all threads, user + system), in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("read /proc/self/stat");
    // Field 2, the command name, is in parentheses and may hold spaces: count from the last
    // ')'. What follows starts at field 3, so utime (14) and stime (15) are its 12th and 13th.
    let rest = &stat[stat.rfind(')').expect("a command name in /proc/self/stat") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> u64 { fields[n - 3].parse().expect("a number of ticks") };
    field(14) + field(15)
}

/// The CA's PEM, from the file $BENCH_CA names.
fn ca() -> Vec<u8> {
    let path = std::env::var("BENCH_CA").unwrap_or_else(|_| fail("BENCH_CA: the CA's PEM file"));
    std::fs::read(&path).unwrap_or_else(|err| fail(format!("{path}: {err}")))
}

/// A rustls client configuration trusting the CA, on ring, as our client's is.
fn ring_config() -> rustls::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&ca()) {
        roots
            .add(cert.unwrap_or_else(|err| fail(err)))
            .unwrap_or_else(|err| fail(err));
    }
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|err| fail(err))
        .with_root_certificates(roots)
        .with_no_client_auth()
}

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("clients: {what}");
    std::process::exit(1);
}

/// Spawns `$concurrency` local tasks, each with its own handle on the shared client `$client`
/// (an `Rc`) bound to `$c`, calling `$call` in a loop until `$stop`; counts answers of 5.
macro_rules! drive {
    ($client:expr, $concurrency:expr, $count:expr, $stop:expr, |$c:ident| $call:expr) => {{
        let client = Rc::new($client);
        // The first call, awaited alone: the connection is made and the answer is right.
        {
            let $c = &*client;
            match $call.await {
                Ok(5) => {}
                Ok(other) => fail(format!("add(2, 3) answered {other}")),
                Err(err) => fail(format!("the first call failed: {err}")),
            }
        }
        for _ in 0..$concurrency {
            let client = Rc::clone(&client);
            let count = Arc::clone(&$count);
            let stop = Arc::clone(&$stop);
            tokio::task::spawn_local(async move {
                let $c = &*client;
                while !stop.load(Ordering::Relaxed) {
                    match $call.await {
                        Ok(5) => {
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(other) => fail(format!("add(2, 3) answered {other}")),
                        Err(err) => fail(format!("a call failed: {err}")),
                    }
                }
            });
        }
    }};
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        fail("usage: clients ours-http|ours-ws|theirs-http|theirs-ws URL CONCURRENCY SECS");
    }
    let (mode, url) = (args[1].as_str(), args[2].as_str());
    let concurrency: usize = args[3]
        .parse()
        .unwrap_or_else(|_| fail("CONCURRENCY: a number"));
    let secs: u64 = args[4].parse().unwrap_or_else(|_| fail("SECS: a number"));

    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            match mode {
                "ours-http" | "ours-ws" | "ours-https" => {
                    let mut builder = rpc_hyper::Client::builder(url);
                    if mode == "ours-https" {
                        builder = builder.add_root_certificates_pem(&ca());
                    }
                    let client = builder.build().unwrap_or_else(|err| fail(err));
                    drive!(client, concurrency, count, stop, |c| c
                        .request::<i64>("add", (2, 3)));
                }
                "theirs-http" => {
                    let client = HttpClientBuilder::default()
                        .build(url)
                        .unwrap_or_else(|err| fail(err));
                    drive!(client, concurrency, count, stop, |c| c
                        .request::<i64, _>("add", rpc_params![2, 3]));
                }
                "theirs-https" => {
                    let client = HttpClientBuilder::default()
                        .with_custom_cert_store(ring_config())
                        .build(url)
                        .unwrap_or_else(|err| fail(err));
                    drive!(client, concurrency, count, stop, |c| c
                        .request::<i64, _>("add", rpc_params![2, 3]));
                }
                "theirs-http-nolog" => {
                    let client = HttpClientBuilder::default()
                        .set_rpc_middleware(RpcServiceBuilder::new())
                        .build(url)
                        .unwrap_or_else(|err| fail(err));
                    drive!(client, concurrency, count, stop, |c| c
                        .request::<i64, _>("add", rpc_params![2, 3]));
                }
                "theirs-ws" => {
                    let client = WsClientBuilder::default()
                        .build(url)
                        .await
                        .unwrap_or_else(|err| fail(err));
                    drive!(client, concurrency, count, stop, |c| c
                        .request::<i64, _>("add", rpc_params![2, 3]));
                }
                "theirs-ws-nolog" => {
                    let client = WsClientBuilder::default()
                        .set_rpc_middleware(RpcServiceBuilder::new())
                        .build(url)
                        .await
                        .unwrap_or_else(|err| fail(err));
                    drive!(client, concurrency, count, stop, |c| c
                        .request::<i64, _>("add", rpc_params![2, 3]));
                }
                other => fail(format!("unknown mode {other}")),
            }

            tokio::time::sleep(Duration::from_secs(1)).await; // warm-up
            let (ticks0, calls0, t0) = (cpu_ticks(), count.load(Ordering::Relaxed), Instant::now());
            tokio::time::sleep(Duration::from_secs(secs)).await;
            let (ticks1, calls1, elapsed) =
                (cpu_ticks(), count.load(Ordering::Relaxed), t0.elapsed());
            stop.store(true, Ordering::Relaxed);

            let calls = calls1 - calls0;
            if calls == 0 {
                fail("no call was answered in the measured window");
            }
            let cpu_us = (ticks1 - ticks0) as f64 * 1e6 / TICKS_PER_S as f64;
            println!(
                "calls_per_s={:.0} client_cpu_us_per_call={:.3}",
                calls as f64 / elapsed.as_secs_f64(),
                cpu_us / calls as f64
            );
        })
        .await;
}
