//! The error forms go-ethereum answers with, for a server that stands in for an Ethereum node:
//! its clients (and viem, ethers, web3.py) recognize them, and some act on them.

use crate::{ErrorCode, ErrorObject};

/// -32601 "notifications not supported": what go-ethereum answers a subscribe call over
/// plain HTTP, and the one answer on which its client falls back to polling. Give it to
/// [`Router::cannot_push_error`](crate::Router::cannot_push_error).
pub fn notifications_not_supported() -> ErrorObject {
    ErrorObject::new(ErrorCode::METHOD_NOT_FOUND, "notifications not supported")
}

/// -32000 "subscription not found": what go-ethereum answers an unsubscribe call whose id is
/// not alive on the connection, where this library answers `false` by default. Declare it
/// with `#[rpc_subscription(unknown_id = "error")]`, or
/// [`Method::unknown_id_errors`](crate::Method::unknown_id_errors).
pub fn subscription_not_found() -> ErrorObject {
    ErrorObject::new(-32000, "subscription not found")
}
