//! The wire types this node's methods take and answer that Ethereum defines and alloy does
//! not: a block and its header in the JSON form nodes give them, a transaction, a transfer's
//! request, and how a call names a block. Every field in them is one of alloy's primitives.

use alloy_primitives::{Address, B256, U256, U64};
use serde::{Deserialize, Serialize};

/// A block's header, as a block carries it and a `newHeads` subscription sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Its height: the genesis block is 0.
    pub number: U64,
    /// Its hash.
    pub hash: B256,
    /// The hash of the block before it (zero for the genesis block).
    pub parent_hash: B256,
    /// When it was mined, in seconds since the Unix epoch.
    pub timestamp: U64,
}

/// A block, as `eth_getBlockByNumber` answers it: its header's fields, and its transactions.
#[derive(Clone, Debug, Serialize)]
pub struct Block {
    /// The header's fields, at the block's top level as Ethereum has them.
    #[serde(flatten)]
    pub header: Header,
    /// Its transactions: their hashes, or (asked for in full) the transactions.
    pub transactions: Transactions,
}

/// A block's transactions, in the form the call asked for.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Transactions {
    /// Their hashes.
    Hashes(Vec<B256>),
    /// The transactions whole.
    Full(Vec<Transaction>),
}

/// A transaction the chain holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// Its hash.
    pub hash: B256,
    /// Who sent it.
    pub from: Address,
    /// Who it pays.
    pub to: Address,
    /// How much, in wei.
    pub value: U256,
    /// The sender's count of transactions before this one.
    pub nonce: U64,
    /// The block that holds it.
    pub block_number: U64,
    /// That block's hash.
    pub block_hash: B256,
}

/// A new transaction, as a `newPendingTransactions` subscription sends it: its hash, or
/// (asked for in full) the transaction.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Pending {
    /// Its hash.
    Hash(B256),
    /// The transaction whole.
    Full(Transaction),
}

/// What `eth_sendTransaction` takes: a transfer. The fields a wallet fills besides (`gas`,
/// `maxFeePerGas`, `data`, ...) are accepted and ignored: gas is free here.
#[derive(Clone, Debug, Deserialize)]
pub struct TransactionRequest {
    /// The account that pays.
    pub from: Address,
    /// The account paid.
    pub to: Address,
    /// How much, in wei; none is 0.
    #[serde(default)]
    pub value: U256,
    /// The sender's next nonce, when the caller counts them itself.
    pub nonce: Option<U64>,
}

/// A block, named by number or by tag, as a call's last parameter names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(
    untagged,
    expecting = "a block number (a hex quantity) or a tag: latest, earliest, pending, safe or finalized"
)]
pub enum BlockId {
    /// A block's number.
    Number(U64),
    /// A block named by where it stands.
    Tag(Tag),
}

/// The tags that name a block by where it stands. This chain finalizes each block at once,
/// and has no pending block: all of them but `earliest` name its head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tag {
    /// The newest block.
    Latest,
    /// The genesis block.
    Earliest,
    /// The block being built; here, the newest.
    Pending,
    /// The newest block safe from reorganization; here, the newest.
    Safe,
    /// The newest final block; here, the newest.
    Finalized,
}
