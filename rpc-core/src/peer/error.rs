//! Why a request to the peer, or a notification, failed.

use std::fmt;
use std::time::Duration;

use crate::subscription::SendError;
use crate::{ErrorCode, ErrorObject};

/// Why a request to the peer (or a notification) failed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum PeerError {
    /// No answer came within the time limit. The request is forgotten: a late answer is
    /// dropped.
    TimedOut(Duration),
    /// The connection closed (before the answer, or before the request could be sent).
    Closed,
    /// The other side answered with an error: its code, message and data, as sent.
    Answered(ErrorObject),
    /// The answer's result did not decode as the type asked for.
    Decode(String),
    /// The answer broke the specification: it had both `result` and `error`, or neither.
    Malformed(&'static str),
    /// The params did not serialize.
    Encode(String),
    /// The message is larger than the connection may send.
    TooLarge {
        /// Its length, in bytes.
        len: usize,
        /// The connection's message limit.
        limit: usize,
    },
    /// The outbox is full ([`Peer::try_notify`](crate::Peer::try_notify) only).
    Full,
}

impl PeerError {
    pub(super) fn from_send(err: SendError) -> Self {
        if err.is_full() {
            PeerError::Full
        } else if let Some((len, limit)) = err.too_large() {
            PeerError::TooLarge { len, limit }
        } else {
            PeerError::Closed
        }
    }

    /// Whether the other side answered with an error (the error is
    /// [`PeerError::Answered`]'s).
    pub fn answered(&self) -> Option<&ErrorObject> {
        match self {
            PeerError::Answered(error) => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerError::TimedOut(limit) => {
                write!(f, "the peer did not answer within {} ms", limit.as_millis())
            }
            PeerError::Closed => f.write_str("the connection to the peer is closed"),
            PeerError::Answered(error) => {
                write!(
                    f,
                    "the peer answered error {}: {}",
                    error.code(),
                    error.message()
                )
            }
            PeerError::Decode(why) => write!(f, "the peer's answer did not decode: {why}"),
            PeerError::Malformed(why) => write!(f, "the peer's answer is malformed: {why}"),
            PeerError::Encode(why) => write!(f, "the params did not serialize: {why}"),
            PeerError::TooLarge { len, limit } => write!(
                f,
                "the message is {len} bytes, over the connection's limit of {limit}"
            ),
            PeerError::Full => f.write_str("the connection's outbox is full"),
        }
    }
}

impl std::error::Error for PeerError {}

/// A method that fails because its peer did answers its own caller: the other side's error as
/// it came (a method that asks on its caller's behalf passes it on), and anything else as
/// -32603 "Internal error" with what happened as `data`.
impl From<PeerError> for ErrorObject {
    fn from(err: PeerError) -> Self {
        match err {
            PeerError::Answered(error) => error,
            other => ErrorObject::from_code(ErrorCode::INTERNAL_ERROR).with_data(other.to_string()),
        }
    }
}
