//! Our server for the WebSocket benchmarks: the same three methods as `theirs` (jsonrpsee),
//! `add` (which feeds `results`), `subscribe_results` and `subscribe_countdown`.
//!
//! Usage: ours ADDR [--ipc PATH] [--tls CERT KEY]
//!                                 (HTTP and WebSocket on ADDR, over TLS with --tls; the same
//!                                  router on a Unix socket at PATH too)
//!        ours --stdio             (the same router on stdin and stdout, LSP framing)

use rpc_core::{rpc_method, rpc_subscription, Broadcast, ErrorObject, Router, Sink, State};
use serde::Serialize;

#[derive(Default)]
struct App {
    results: Broadcast<Computed>,
}

#[derive(Serialize)]
struct Computed {
    method: &'static str,
    a: i64,
    b: i64,
    result: i64,
}

/// Adds two integers; every sum goes to the `results` subscribers.
#[rpc_method]
fn add(app: State<'_, App>, a: i64, b: i64) -> Result<i64, ErrorObject> {
    let result = a
        .checked_add(b)
        .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))?;
    let _ = app.results.send(&Computed {
        method: "add",
        a,
        b,
        result,
    });
    Ok(result)
}

/// Every later sum.
#[rpc_subscription]
async fn results(app: State<'_, App>, sink: Sink<Computed>) {
    app.results.attach(sink).await;
}

/// Counts down from `from` to 0, one number every `interval_ms` (0: as fast as read).
#[rpc_subscription]
async fn countdown(from: u64, interval_ms: u64, sink: Sink<u64>) {
    for n in (0..=from).rev() {
        if sink.send(n).await.is_err() {
            return;
        }
        if interval_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(interval_ms)).await;
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut router = Router::with_state(App::default());
    router
        .register(add::method())?
        .register(results::method())?
        .register(countdown::method())?;
    let router = std::sync::Arc::new(router);
    if args.first().map(String::as_str) == Some("--stdio") {
        use rpc_hyper::stream::{stdio, Framing};
        stdio(router).framing(Framing::ContentLength).await?;
        return Ok(());
    }
    let addr = args.first().cloned().unwrap_or_else(|| "127.0.0.1:5201".into());
    if let Some(at) = args.iter().position(|a| a == "--ipc") {
        let path = args.get(at + 1).ok_or("--ipc PATH")?;
        let listener = rpc_hyper::stream::IpcListener::bind(path)?;
        let ipc = rpc_hyper::stream::serve_ipc(listener, router.clone()).max_connections(20_000);
        tokio::spawn(std::future::IntoFuture::into_future(ipc));
    }
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let service = rpc_hyper::RpcService::new(router);
    let mut server = rpc_hyper::serve_service(listener, service).max_connections(20_000);
    if let Some(at) = args.iter().position(|a| a == "--tls") {
        let (cert, key) = match (args.get(at + 1), args.get(at + 2)) {
            (Some(cert), Some(key)) => (cert, key),
            _ => return Err("--tls CERT KEY".into()),
        };
        server = server.tls(rpc_hyper::tls::ServerTls::from_pem_files(cert, key)?);
    }
    server
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        })
        .await?;
    Ok(())
}
