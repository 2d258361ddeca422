//! Mounts a JSON-RPC endpoint inside an axum app beside ordinary routes.
//!
//! Run `cargo run --example axum`, then:
//! `curl -s localhost:3000/rpc -H 'content-type: application/json' -d '{"jsonrpc":"2.0","method":"echo","params":["hi"],"id":1}'`

use rpc_examples::mounted;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // Bind, then serve the axum app with our server (axum's own `axum::serve` works too).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    rpc_hyper::serve_service(listener, mounted::app())
        .with_graceful_shutdown(async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await
}
