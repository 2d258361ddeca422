//! Round trips over one Unix socket pair, both ends ours, each on a thread and a runtime of its
//! own: calls from the calling side to the server's router, against requests from a server
//! method to the calling side's router (`Peer::request`). Prints the process's CPU per round
//! trip (both ends are in it) for each direction, alternating, and their ratio.
//!
//! Usage: peer_rtt [ROUND_TRIPS] [ROUNDS] [WIDTH]

use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Instant;

use rpc_bench_ws::cpu_us;
use rpc_core::{rpc_method, ErrorObject, Peer, Router};
use rpc_hyper::stream;

/// Adds two integers: what each side answers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// Sends its caller `n` `add` requests, `width` at a time; answers how many were answered.
#[rpc_method]
async fn drive(peer: Peer, n: u64, width: u64) -> Result<u64, ErrorObject> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..width {
        let peer = peer.clone();
        let share = n / width;
        tasks.spawn(async move {
            for i in 0..share {
                let sum: i64 = peer.request("add", (i as i64, 1)).await?;
                assert_eq!(sum, i as i64 + 1);
            }
            Ok::<u64, rpc_core::PeerError>(share)
        });
    }
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        done += joined.expect("no panic")?;
    }
    Ok(done)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(200_000, |a| a.parse().expect("ROUND_TRIPS"));
    let rounds: usize = args.next().map_or(3, |a| a.parse().expect("ROUNDS"));
    let width: u64 = args.next().map_or(32, |a| a.parse().expect("WIDTH"));
    let (server_end, client_end) = UnixStream::pair().expect("a socket pair");
    server_end.set_nonblocking(true).unwrap();
    client_end.set_nonblocking(true).unwrap();

    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let mut router = Router::new();
            router.register(add::method()).unwrap();
            router.register(drive::method()).unwrap();
            let socket = tokio::net::UnixStream::from_std(server_end).unwrap();
            let server = stream::serve_io(socket, router).request_timeout(None);
            let _ = std::future::IntoFuture::into_future(server).await;
        });
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let mut router = Router::new();
        router.register(add::method()).unwrap();
        let socket = tokio::net::UnixStream::from_std(client_end).unwrap();
        let connection = stream::serve_io(socket, router).connect();
        let peer = connection.peer().clone();
        let pid = std::process::id();
        let (mut forward, mut back) = (Vec::new(), Vec::new());
        // A warm-up of each, then alternating measured rounds.
        let _ = calls(&peer, n / 10, width).await;
        let _: u64 = peer.request("drive", (n / 10, width)).timeout(None).await.unwrap();
        for _ in 0..rounds {
            let (cpu, t) = (cpu_us(pid), Instant::now());
            calls(&peer, n, width).await;
            forward.push(((cpu_us(pid) - cpu) as f64 / n as f64, t.elapsed()));
            let (cpu, t) = (cpu_us(pid), Instant::now());
            let done: u64 = peer.request("drive", (n, width)).timeout(None).await.unwrap();
            assert_eq!(done, n / width * width);
            back.push(((cpu_us(pid) - cpu) as f64 / done as f64, t.elapsed()));
        }
        let median = |v: &mut Vec<(f64, std::time::Duration)>| {
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            v[v.len() / 2]
        };
        let (f, ft) = median(&mut forward);
        let (b, bt) = median(&mut back);
        println!(
            "calling side -> server: {f:.2} us CPU per round trip ({:.0}/s)",
            n as f64 / ft.as_secs_f64()
        );
        println!(
            "server -> calling side: {b:.2} us CPU per round trip ({:.0}/s)",
            n as f64 / bt.as_secs_f64()
        );
        println!("ratio (server -> calling side / calling side -> server): {:.2}x", b / f);
        drop(connection);
    });
}

/// `n` calls of `add` from the calling side, `width` at a time.
async fn calls(peer: &Peer, n: u64, width: u64) {
    let peer = Arc::new(peer.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..width {
        let peer = Arc::clone(&peer);
        tasks.spawn(async move {
            for i in 0..n / width {
                let sum: i64 = peer.request("add", (i as i64, 1)).await.unwrap();
                assert_eq!(sum, i as i64 + 1);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}
