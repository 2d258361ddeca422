//! Our MCP server with the one tool the benchmark calls: `add`, a plain `#[rpc_method]`.

use rpc_core::{mcp, rpc_method, Dialect, Router};
use rpc_hyper::stream;

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut tools = Router::new();
    tools.register(add::method()).expect("a name");
    let server = mcp::Server::new("bench", "1.0.0", tools).into_router();
    stream::stdio(server)
        .dialect(Dialect::Mcp)
        .batches(false)
        .await
}
