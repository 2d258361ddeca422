//! The tutorial's calculator over JSON-RPC: `add`, `subtract`, `multiply` and `divide`.
//!
//! `cargo run --example calculator` listens on 127.0.0.1:5000; `--addr HOST:PORT` changes it.
//! Ctrl-C or SIGTERM stops it gracefully.

use std::net::SocketAddr;
use std::process::ExitCode;

use rpc_examples::calculator;

const USAGE: &str = "\
The calculator: JSON-RPC 2.0 over HTTP (POST /rpc) and WebSocket (ws://.../rpc), with add,
subtract, multiply and divide; over a WebSocket, subscribe_countdown and subscribe_results.

Usage: calculator [--addr HOST:PORT] [--max-connections N] [--allow-origin ORIGIN]...

Options:
  --addr HOST:PORT       where to listen (default 127.0.0.1:5000; port 0 picks a free one)
  --max-connections N    connections served at once; more wait in the backlog (default 4096)
  --allow-origin ORIGIN  let browser pages from ORIGIN (such as http://localhost:8000) open a
                         WebSocket; repeatable. Clients that send no Origin are always let in
  -h, --help             print this help
";

fn main() -> ExitCode {
    // Read the arguments: `--addr HOST:PORT` (or `--addr=HOST:PORT`) and `--help`.
    let mut addr = calculator::DEFAULT_ADDR.to_owned();
    let mut max_connections = rpc_hyper::DEFAULT_MAX_CONNECTIONS;
    let mut origins = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--addr" => match args.next() {
                Some(value) => addr = value,
                None => return usage_error("--addr needs a value, such as 127.0.0.1:5000"),
            },
            "--allow-origin" => match args.next() {
                Some(value) => origins.push(value),
                None => {
                    return usage_error(
                        "--allow-origin needs a value, such as http://localhost:8000",
                    )
                }
            },
            "--max-connections" => match args.next().and_then(|v| v.parse().ok()) {
                Some(value) => max_connections = value,
                None => return usage_error("--max-connections needs a number, such as 4096"),
            },
            other => match other.strip_prefix("--addr=") {
                Some(value) => addr = value.to_owned(),
                None => return usage_error(&format!("unknown argument `{other}`")),
            },
        }
    }
    let addr: SocketAddr = match addr.parse() {
        Ok(addr) => addr,
        Err(_) => {
            return usage_error(&format!(
                "`{addr}` is not HOST:PORT, such as 127.0.0.1:5000"
            ))
        }
    };

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => return failure(&format!("cannot start the runtime: {err}")),
    };
    runtime.block_on(async {
        // Bind, say where, then serve until Ctrl-C or SIGTERM.
        let listener = match rpc_hyper::bind(addr) {
            Ok(listener) => listener,
            Err(err) => return failure(&format!("cannot listen on {addr}: {err}")),
        };
        let bound = listener.local_addr().unwrap_or(addr);
        println!(
            "calculator listening on http://{bound} (JSON-RPC: POST http://{bound}/rpc, or a WebSocket at ws://{bound}/rpc)"
        );
        match calculator::serve_with(listener, max_connections, &origins, shutdown_signal()).await {
            Ok(()) => {
                println!("calculator stopped");
                ExitCode::SUCCESS
            }
            Err(err) => failure(&format!("server error: {err}")),
        }
    })
}

/// Completes on Ctrl-C, or on SIGTERM where there is one.
async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

fn failure(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
