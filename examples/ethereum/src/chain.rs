//! The chain: its blocks, balances and nonces behind one lock, and the feeds that tell its
//! subscribers of each new block and transaction.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use alloy_primitives::{keccak256, Address, B256, U256, U64};
use rpc_core::{Broadcast, ErrorObject};

use crate::wire::{
    Block, BlockId, Header, Pending, Tag, Transaction, TransactionRequest, Transactions,
};

/// The chain's id, as `eth_chainId` answers it (and `net_version`, in decimal).
pub const CHAIN_ID: u64 = 1337;

/// How much ether each development account starts with: 10,000, in wei.
pub fn starting_balance() -> U256 {
    U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64))
}

/// The node: its chain, and who watches it.
#[derive(Debug)]
pub struct Devnet {
    chain: Mutex<Chain>,
    pub(crate) accounts: Vec<Address>,
    pub(crate) heads: Broadcast<Header>,
    /// New transactions, to the subscribers that want their hashes.
    pub(crate) pending_hashes: Broadcast<Pending>,
    /// New transactions, to the subscribers that want them whole.
    pub(crate) pending_full: Broadcast<Pending>,
}

#[derive(Debug)]
pub(crate) struct Chain {
    pub(crate) blocks: Vec<Block>,
    pub(crate) transactions: HashMap<B256, Transaction>,
    pub(crate) balances: HashMap<Address, U256>,
    pub(crate) nonces: HashMap<Address, u64>,
}

/// go-ethereum's answer for state it no longer keeps.
fn pruned() -> ErrorObject {
    ErrorObject::server_error(
        -32000,
        "missing trie node (state is kept for the latest block)",
    )
}

impl Devnet {
    /// A chain at its genesis block, with `accounts` funded with [`starting_balance`] each.
    pub fn new(accounts: Vec<Address>) -> Self {
        let genesis = Header {
            number: U64::ZERO,
            hash: keccak256(b"genesis"),
            parent_hash: B256::ZERO,
            timestamp: U64::from(now()),
        };
        let chain = Chain {
            blocks: vec![Block {
                header: genesis,
                transactions: Transactions::Hashes(Vec::new()),
            }],
            transactions: HashMap::new(),
            balances: accounts.iter().map(|a| (*a, starting_balance())).collect(),
            nonces: HashMap::new(),
        };
        Self {
            chain: Mutex::new(chain),
            accounts,
            heads: Broadcast::new(),
            pending_hashes: Broadcast::new(),
            pending_full: Broadcast::new(),
        }
    }

    /// `count` development accounts, the same on every run: the last 20 bytes of the
    /// keccak-256 of `dev account 0`, `dev account 1`, ...
    pub fn dev_accounts(count: u8) -> Vec<Address> {
        (0..count)
            .map(|i| Address::from_word(keccak256(format!("dev account {i}"))))
            .collect()
    }

    pub(crate) fn chain(&self) -> MutexGuard<'_, Chain> {
        // A panic elsewhere leaves the chain whole: every change is made after its checks.
        self.chain.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves ether as `request` says, in a new block of its own.
    pub(crate) fn transfer(&self, request: &TransactionRequest) -> Result<B256, ErrorObject> {
        let (transaction, header) = {
            let mut chain = self.chain();
            let nonce = chain.nonces.get(&request.from).copied().unwrap_or(0);
            match request.nonce.map(|n| n.to::<u64>()) {
                Some(given) if given < nonce => return Err(server_error("nonce too low")),
                Some(given) if given > nonce => return Err(server_error("nonce too high")),
                _ => {}
            }
            let balance = chain
                .balances
                .get(&request.from)
                .copied()
                .unwrap_or_default();
            let Some(left) = balance.checked_sub(request.value) else {
                return Err(server_error("insufficient funds for transfer"));
            };
            let mut hashed = Vec::with_capacity(20 + 20 + 32 + 8 + 8);
            hashed.extend_from_slice(request.from.as_slice());
            hashed.extend_from_slice(request.to.as_slice());
            hashed.extend_from_slice(&request.value.to_be_bytes::<32>());
            hashed.extend_from_slice(&nonce.to_be_bytes());
            hashed.extend_from_slice(&CHAIN_ID.to_be_bytes());
            let hash = keccak256(&hashed);
            chain.balances.insert(request.from, left);
            *chain.balances.entry(request.to).or_default() += request.value;
            chain.nonces.insert(request.from, nonce + 1);
            let header = chain.mine(vec![hash]);
            let transaction = Transaction {
                hash,
                from: request.from,
                to: request.to,
                value: request.value,
                nonce: U64::from(nonce),
                block_number: header.number,
                block_hash: header.hash,
            };
            chain.transactions.insert(hash, transaction.clone());
            (transaction, header)
        };
        // Told once the chain is unlocked: a watcher that calls back finds it as told. (With
        // no one attached, a broadcast serializes nothing.)
        let hash = transaction.hash;
        let _ = self.pending_hashes.send(&Pending::Hash(hash));
        let _ = self.pending_full.send(&Pending::Full(transaction));
        let _ = self.heads.send(&header);
        Ok(hash)
    }
}

fn server_error(message: &'static str) -> ErrorObject {
    ErrorObject::server_error(-32000, message)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

impl Chain {
    pub(crate) fn head(&self) -> &Header {
        // There is always the genesis block.
        &self.blocks[self.blocks.len() - 1].header
    }

    /// The number of the block `id` names, if the chain has it.
    pub(crate) fn number(&self, id: BlockId) -> Option<usize> {
        match id {
            BlockId::Tag(Tag::Earliest) => Some(0),
            BlockId::Tag(_) => Some(self.blocks.len() - 1),
            BlockId::Number(n) => usize::try_from(n).ok().filter(|n| *n < self.blocks.len()),
        }
    }

    /// Whether the state at the block `id` names is the state kept (the latest).
    pub(crate) fn is_latest(&self, id: Option<BlockId>) -> Result<(), ErrorObject> {
        match self.number(id.unwrap_or(BlockId::Tag(Tag::Latest))) {
            Some(n) if n == self.blocks.len() - 1 => Ok(()),
            Some(_) => Err(pruned()),
            None => Err(server_error("header not found")),
        }
    }

    /// Adds a block holding `transactions`; its header.
    fn mine(&mut self, transactions: Vec<B256>) -> Header {
        let parent = self.head().clone();
        let number = parent.number + U64::from(1);
        let mut hashed = parent.hash.to_vec();
        hashed.extend_from_slice(&number.to_be_bytes::<8>());
        for hash in &transactions {
            hashed.extend_from_slice(hash.as_slice());
        }
        let header = Header {
            number,
            hash: keccak256(&hashed),
            parent_hash: parent.hash,
            timestamp: U64::from(now()).max(parent.timestamp),
        };
        self.blocks.push(Block {
            header: header.clone(),
            transactions: Transactions::Hashes(transactions),
        });
        header
    }
}
