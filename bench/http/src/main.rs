//! Servers for the HTTP benchmarks and instruction counts (`scripts/bench-http.sh`,
//! `scripts/instructions-http.sh`), each until Ctrl-C (SIGINT), then exiting cleanly:
//!
//! - `http-floor fixed ADDR`: reads the body, answers a fixed reply: what any server costs;
//! - `http-floor serde ADDR`: reads the body, parses it with serde into borrowed types (one
//!   call or a batch), adds, serializes: the least any JSON-RPC server must do;
//! - `http-floor rpc ADDR`: `rpc_hyper::serve` with an `add` method, at rpc-hyper's default
//!   features, as a user's quick-start server is built.

mod floor;

use rpc_core::{rpc_method, Router};
use tokio::net::TcpListener;

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

async fn stopped() {
    tokio::signal::ctrl_c().await.ok();
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(addr)) = (args.next(), args.next()) else {
        eprintln!("usage: http-floor fixed|serde|rpc HOST:PORT");
        std::process::exit(2);
    };
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "http-floor {mode} listening on http://{}",
        listener.local_addr()?
    );
    let parse = match mode.as_str() {
        "fixed" => false,
        "serde" => true,
        "rpc" => {
            let mut router = Router::new();
            router.register(add::method()).expect("one registration");
            return rpc_hyper::serve(listener, router)
                .with_graceful_shutdown(stopped())
                .await;
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    };
    floor::serve(listener, parse, stopped()).await
}
