//! The calculator as a Model Context Protocol server over stdio: `cargo run --example mcp`.
//!
//! An MCP host launches it and speaks to it on stdin and stdout, one JSON-RPC message per line;
//! nothing else is written to stdout (logs go to stderr, at the level `RUST_LOG` names:
//! `error`, `warn` by default, `info`, `debug` or `trace`). It ends when stdin closes, once the
//! calls in flight are answered (within a second: a host waits a little, then stops it), or
//! on SIGTERM or Ctrl-C, which drain it the same way; it exits 0.

use std::process::ExitCode;
use std::time::Duration;

use rpc_core::Dialect;
use rpc_examples::mcp;
use rpc_hyper::stream;

fn main() -> ExitCode {
    if std::env::args()
        .skip(1)
        .any(|arg| arg == "-h" || arg == "--help")
    {
        eprintln!(
            "The calculator as an MCP server over stdio (newline-delimited JSON-RPC).\n\n\
             Usage: mcp   (launched by an MCP host; stdin and stdout carry the protocol)"
        );
        return ExitCode::SUCCESS;
    }
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|level| level.parse().ok())
        .unwrap_or(tracing::Level::WARN);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("mcp: no runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    // MCP cancels with `notifications/cancelled` and reports progress with
    // `notifications/progress`; it has no batches since 2025-06-18.
    let server = stream::stdio(mcp::server())
        .dialect(Dialect::Mcp)
        .batches(false)
        .drain_timeout(Duration::from_secs(1))
        .with_graceful_shutdown(stop_signal());
    let served = runtime.block_on(async { server.await });
    // A read of stdin that is not a pipe cannot be stopped: the runtime is not waited for.
    runtime.shutdown_background();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mcp: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on SIGTERM (what a host sends a server that did not exit) or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
