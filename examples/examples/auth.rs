//! The calculator's methods behind bearer-token authentication.
//!
//! `RPC_TOKEN=secret cargo run --example auth`, then:
//! `curl -s localhost:3001 -H 'authorization: Bearer secret' -H 'content-type: application/json' -d '{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}'`
//! Without the header, or with another token, the answer is `401 Unauthorized`.

use rpc_examples::{auth::BearerAuthLayer, calculator};
use rpc_hyper::RpcService;
use tower::Layer;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // The token comes from the environment, never from the source.
    let Ok(token) = std::env::var("RPC_TOKEN") else {
        eprintln!("set RPC_TOKEN to the token clients must send");
        std::process::exit(2);
    };
    // The layer wraps the endpoint: requests without the token never reach a method.
    let service = BearerAuthLayer::new(token).layer(RpcService::new(calculator::router()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    println!("listening on http://{}", listener.local_addr()?);
    rpc_hyper::serve_service(listener, service)
        .with_graceful_shutdown(async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await
}
