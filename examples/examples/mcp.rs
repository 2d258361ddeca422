//! The calculator as a Model Context Protocol server over stdio: `cargo run --example mcp`.
//!
//! An MCP host launches it and speaks to it on stdin and stdout, one JSON-RPC message per line;
//! nothing else is written to stdout (logs go to stderr, at the level `RUST_LOG` names:
//! `error`, `warn` by default, `info`, `debug` or `trace`). It ends when stdin closes, once the
//! calls in flight are answered.

use std::process::ExitCode;

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
        .batches(false);
    let served = runtime.block_on(async { server.await });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mcp: {err}");
            ExitCode::FAILURE
        }
    }
}
