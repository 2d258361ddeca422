//! The error forms go-ethereum answers with, for a server that stands in for an Ethereum node:
//! its clients (and viem, ethers, web3.py) recognize them, and some act on them.

use crate::{ErrorCode, ErrorObject, ParamsError, ParamsProblem};

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

/// A decode error worded as go-ethereum words it, for [`Router::params_errors`]: -32602 with
/// the reason in the message and no `data`: `invalid argument 0: invalid type: string "x",
/// expected u64`, `missing value for required argument 1`, `too many arguments, want at most
/// 2`. (A parameter given by a name the method does not know, which go-ethereum never
/// reads, is `unknown parameter "x"`.)
///
/// [`Router::params_errors`]: crate::Router::params_errors
pub fn invalid_argument(_method: &str, error: &ParamsError) -> ErrorObject {
    let message = match (error.problem(), error.position()) {
        (ParamsProblem::Invalid, Some(at)) => format!("invalid argument {at}: {}", error.reason()),
        (ParamsProblem::Missing, Some(at)) => format!("missing value for required argument {at}"),
        (ParamsProblem::TooMany { most, .. }, _) => {
            format!("too many arguments, want at most {most}")
        }
        (ParamsProblem::Malformed, _) => error.reason().to_owned(),
        _ => error.to_string(),
    };
    ErrorObject::new(ErrorCode::INVALID_PARAMS, message)
}
