//! Servers for the HTTP benchmarks (`scripts/bench-http.sh`). The floors are the leanest hyper
//! server there is (`http1::Builder`, no protocol detection, no timers), on the same tokio
//! setup as the library, so that the differences are the library's own:
//!
//! - `bench_floor fixed ADDR`: reads the body, answers a fixed reply: what any server costs;
//! - `bench_floor serde ADDR`: reads the body, parses it with serde into borrowed types (one call
//!   or a batch), adds, serializes: the least any JSON-RPC server must do;
//! - `bench_floor rpc ADDR`: `rpc_hyper::serve` with an `add` method, no other routes;
//! - `bench_floor rpc-context ADDR`: the same, with an `add` that reads a value from the call's
//!   context (the request's headers) and one call layer that does nothing: what the context
//!   and the layers cost when used;
//! - `bench_floor fixed-tls ADDR CERT KEY`: the fixed floor behind tokio-rustls, written by
//!   hand (ring, X25519 first, TLS 1.3 and 1.2: what `ServerTls` chooses too);
//! - `bench_floor rpc-tls ADDR CERT KEY`: `rpc` served with `Serve::tls`.

use hyper_util::rt::TokioIo;
use rpc_core::{rpc_method, CallLayer, Ext, HeaderMap, Router};
use tokio::net::TcpListener;

/// The fixed and serde floors, shared with `bench/http`.
#[path = "../../bench/http/src/floor.rs"]
mod floor;

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// Adds two integers, reading the request's headers from the context.
#[rpc_method(name = "add")]
fn add_in_context(a: i64, b: i64, headers: Ext<'_, HeaderMap>) -> i64 {
    let one_more = i64::from(headers.contains_key("x-one-more"));
    a.wrapping_add(b).wrapping_add(one_more)
}

/// The fixed floor behind TLS: tokio-rustls on ring, X25519 first, as `ServerTls` is.
async fn fixed_tls(listener: TcpListener, cert: &str, key: &str) -> std::io::Result<()> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(std::io::Error::other)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(std::io::Error::other)?;
    #[allow(deprecated)]
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .kx_groups
        .sort_by_key(|group| group.name() != rustls::NamedGroup::X25519);
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(std::io::Error::other)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let service = hyper::service::service_fn(move |request| floor::respond(request, false));
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await
                .ok();
        });
    }
}

/// A call layer that does nothing.
struct Nothing;

impl CallLayer for Nothing {}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(addr)) = (args.next(), args.next()) else {
        eprintln!("usage: bench_floor fixed|serde|rpc|rpc-context HOST:PORT");
        eprintln!("       bench_floor fixed-tls|rpc-tls HOST:PORT CERT KEY");
        std::process::exit(2);
    };
    let pem = |what: &str, path: Option<String>| {
        path.unwrap_or_else(|| {
            eprintln!("{mode} needs the {what} file (PEM)");
            std::process::exit(2);
        })
    };
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "bench_floor {mode} listening on http://{}",
        listener.local_addr()?
    );
    let parse = match mode.as_str() {
        "fixed" => false,
        "serde" => true,
        "rpc" => {
            let mut router = Router::new();
            router.register(add::method()).expect("one registration");
            return rpc_hyper::serve(listener, router).await;
        }
        "rpc-tls" => {
            let (cert, key) = (pem("certificate", args.next()), pem("key", args.next()));
            let tls = rpc_hyper::tls::ServerTls::from_pem_files(cert, key)?;
            let mut router = Router::new();
            router.register(add::method()).expect("one registration");
            return rpc_hyper::serve(listener, router).tls(tls).await;
        }
        "fixed-tls" => {
            let (cert, key) = (pem("certificate", args.next()), pem("key", args.next()));
            return fixed_tls(listener, &cert, &key).await;
        }
        "rpc-context" => {
            let mut router = Router::new();
            router.layer(Nothing);
            router
                .register(add_in_context::method())
                .expect("one registration");
            return rpc_hyper::serve(listener, router).await;
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    };
    floor::serve(listener, parse, std::future::pending()).await
}
