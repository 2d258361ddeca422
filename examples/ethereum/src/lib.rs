//! A development chain's node in miniature: the Ethereum JSON-RPC methods a wallet or a script
//! calls first, with go-ethereum's answers, on alloy's wire types.
//!
//! Every quantity on the wire is a hex string (`"0x1a"`), every address and hash a hex string
//! of fixed length. None of that is written here: `U64` and `U256` (de)serialize as
//! quantities, `Address` and `B256` as their hex, checked as they decode, all from
//! `alloy-primitives`. What is this crate's is the chain's logic (`chain`), and the shapes of
//! Ethereum's JSON that alloy's primitives are the fields of (`wire`).
//!
//! The chain mines a block for each transaction it is sent, at once. Its accounts need no
//! keys: `eth_sendTransaction` moves ether from any account that has it, as a development
//! node's unlocked accounts do. State is kept for the latest block only: asked about an older
//! one, the node answers as a pruned node does. Blocks are kept for ever, in memory: a chain
//! for a developer's machine, not for a public port.

mod chain;
mod wire;

use alloy_primitives::{Address, B256, U256, U64};
use rpc_core::{geth, rpc_method, rpc_subscription, ErrorObject, Router, Sink, State};

pub use chain::{starting_balance, Devnet, CHAIN_ID};
pub use wire::{
    Block, BlockId, Header, Pending, Tag, Transaction, TransactionRequest, Transactions,
};

/// The node's name and version.
#[rpc_method(name = "web3_clientVersion")]
pub fn client_version() -> &'static str {
    concat!("rpc-example-ethereum/v", env!("CARGO_PKG_VERSION"))
}

/// The network's id: the chain id, in decimal.
#[rpc_method(name = "net_version")]
pub fn net_version() -> String {
    CHAIN_ID.to_string()
}

/// The chain's id.
#[rpc_method(name = "eth_chainId")]
pub fn chain_id() -> U64 {
    U64::from(CHAIN_ID)
}

/// The newest block's number.
#[rpc_method(name = "eth_blockNumber")]
pub fn block_number(node: State<'_, Devnet>) -> U64 {
    node.chain().head().number
}

/// The price of gas, in wei: 1 gwei (nothing is charged here).
#[rpc_method(name = "eth_gasPrice")]
pub fn gas_price() -> U256 {
    U256::from(1_000_000_000u64)
}

/// The accounts the node sends from.
#[rpc_method(name = "eth_accounts")]
pub fn accounts(node: State<'_, Devnet>) -> Vec<Address> {
    node.accounts.clone()
}

/// An account's balance, in wei.
///
/// # Errors
/// -32000 for a block before the latest (its state is not kept), or one not mined yet.
#[rpc_method(name = "eth_getBalance")]
pub fn get_balance(
    node: State<'_, Devnet>,
    address: Address,
    block: Option<BlockId>,
) -> Result<U256, ErrorObject> {
    let chain = node.chain();
    chain.is_latest(block)?;
    Ok(chain.balances.get(&address).copied().unwrap_or_default())
}

/// How many transactions an account has sent: its next nonce.
///
/// # Errors
/// As `eth_getBalance`'s.
#[rpc_method(name = "eth_getTransactionCount")]
pub fn get_transaction_count(
    node: State<'_, Devnet>,
    address: Address,
    block: Option<BlockId>,
) -> Result<U64, ErrorObject> {
    let chain = node.chain();
    chain.is_latest(block)?;
    Ok(U64::from(chain.nonces.get(&address).copied().unwrap_or(0)))
}

/// A block, with its transactions' hashes or (`full`) the transactions; `null` for a block
/// not mined yet.
#[rpc_method(name = "eth_getBlockByNumber")]
pub fn get_block_by_number(node: State<'_, Devnet>, block: BlockId, full: bool) -> Option<Block> {
    let chain = node.chain();
    let found = chain.blocks.get(chain.number(block)?)?;
    let mut block = found.clone();
    if let (true, Transactions::Hashes(hashes)) = (full, &found.transactions) {
        let whole = hashes.iter().filter_map(|h| chain.transactions.get(h));
        block.transactions = Transactions::Full(whole.cloned().collect());
    }
    Some(block)
}

/// A transaction by its hash; `null` for one the chain does not hold.
#[rpc_method(name = "eth_getTransactionByHash")]
pub fn get_transaction_by_hash(node: State<'_, Devnet>, hash: B256) -> Option<Transaction> {
    node.chain().transactions.get(&hash).cloned()
}

/// Sends ether from an account that has it, in a block mined at once: the transaction's hash.
///
/// # Errors
/// -32000 "insufficient funds for transfer", "nonce too low" or "nonce too high".
#[rpc_method(name = "eth_sendTransaction")]
pub fn send_transaction(
    node: State<'_, Devnet>,
    transaction: TransactionRequest,
) -> Result<B256, ErrorObject> {
    node.transfer(&transaction)
}

/// Each new block's header, as it is mined.
#[rpc_subscription(
    name = "eth_subscribe",
    kind = "newHeads",
    unsubscribe = "eth_unsubscribe",
    notification = "eth_subscription",
    unknown_id = "error"
)]
pub async fn new_heads(node: State<'_, Devnet>, sink: Sink<Header>) {
    node.heads.attach(sink).await;
}

/// Each new transaction as it is sent: its hash, or (`full`) the transaction.
#[rpc_subscription(
    name = "eth_subscribe",
    kind = "newPendingTransactions",
    unsubscribe = "eth_unsubscribe",
    notification = "eth_subscription",
    unknown_id = "error"
)]
pub async fn new_pending_transactions(
    node: State<'_, Devnet>,
    full: Option<bool>,
    sink: Sink<Pending>,
) {
    if full == Some(true) {
        node.pending_full.attach(sink).await;
    } else {
        node.pending_hashes.attach(sink).await;
    }
}

/// The node's methods over `node`, answering in go-ethereum's forms: params that do not
/// decode as `invalid argument N: ...`, a subscription over plain HTTP as -32601
/// "notifications not supported".
///
/// # Panics
/// Never: the names are distinct.
pub fn router(node: Devnet) -> Router<Devnet> {
    let mut router = Router::with_state(node);
    router
        .register(client_version::method())
        .and_then(|r| r.register(net_version::method()))
        .and_then(|r| r.register(chain_id::method()))
        .and_then(|r| r.register(block_number::method()))
        .and_then(|r| r.register(gas_price::method()))
        .and_then(|r| r.register(accounts::method()))
        .and_then(|r| r.register(get_balance::method()))
        .and_then(|r| r.register(get_transaction_count::method()))
        .and_then(|r| r.register(get_block_by_number::method()))
        .and_then(|r| r.register(get_transaction_by_hash::method()))
        .and_then(|r| r.register(send_transaction::method()))
        .and_then(|r| r.register(new_heads::method()))
        .and_then(|r| r.register(new_pending_transactions::method()))
        .expect("distinct names")
        .params_errors(geth::invalid_argument)
        .cannot_push_error(geth::notifications_not_supported());
    router
}

/// Serves the node over HTTP and WebSocket on `listener` until `shutdown` completes.
///
/// # Errors
/// When accepting connections fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    node: Devnet,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    rpc_hyper::serve(listener, rpc_hyper::RpcService::new(router(node)))
        .with_graceful_shutdown(shutdown)
        .await
}
