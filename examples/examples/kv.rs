//! An in-memory key-value service behind bearer-token authentication: per-user keys, access
//! rules, rate limits and a log line per call (see `examples/src/kv.rs`, and the README's "A
//! key-value service" for a session with curl).
//!
//! `cargo run --example kv`, then, as `alice` (who may write; `bob-token` may only read):
//! `curl -s http://127.0.0.1:4000/ -H 'Authorization: Bearer alice-token' -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","method":"kv.set","params":{"key":"greeting","value":"hello"},"id":1}'`

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // The call log is at info level; the library's own events, at debug, are not shown.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("kv listening on http://{}", listener.local_addr()?);
    println!("tokens: alice-token (read and write), bob-token (read only)");
    rpc_examples::kv::serve(listener, async {
        tokio::signal::ctrl_c().await.ok();
    })
    .await
}
