//! A development chain's node in miniature, over HTTP and WebSocket: Ethereum's JSON-RPC
//! methods on alloy's wire types (see `examples/ethereum/src/lib.rs`).
//!
//! `cargo run --example ethereum` (or `-- 127.0.0.1:8545` for another address), then:
//! `curl -s http://127.0.0.1:8545/ -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","method":"eth_getBalance","params":["0xa38dC670504C5eF05692e6c68f6b01E33A0F2468","latest"],"id":1}'`

use rpc_example_ethereum::{Devnet, CHAIN_ID};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8545".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!("a development chain (id {CHAIN_ID}) on http://{local} and ws://{local}");
    let accounts = Devnet::dev_accounts(3);
    println!("accounts, 10,000 ether each:");
    for account in &accounts {
        println!("  {account}");
    }
    let shutdown = async {
        tokio::signal::ctrl_c().await.ok();
    };
    rpc_example_ethereum::serve(listener, Devnet::new(accounts), shutdown).await
}
