//! The tolerant parser's reading of an object with no `method`: an answer, for the peer.

use serde_json::value::RawValue;

use super::{Entry, Key};
use crate::Id;

/// An answer as the connection read it, for the peer that awaits it
/// ([`Peer`](crate::Peer) delivers it to its call).
#[derive(Debug)]
pub(crate) enum Answer<'a> {
    /// `result`: its JSON text.
    Result(&'a RawValue),
    /// `error`: the error object's JSON text.
    Error(&'a RawValue),
    /// Neither or both: the answer breaks the specification.
    Malformed(&'static str),
}

/// Checks the captured members of an object with no `method`: an answer. One that breaks the
/// specification (no version, both `result` and `error` or neither, a member twice) is still
/// an answer to its id, a malformed one; with no valid id, it answers nothing.
pub(super) fn answer<'a>(
    jsonrpc: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    result: Option<&'a RawValue>,
    error: Option<&'a RawValue>,
    duplicate: Option<Key>,
    reason: &'static str,
) -> Entry<'a> {
    let id = if matches!(duplicate, Some(Key::Id)) {
        None
    } else {
        id.and_then(Id::from_raw)
    };
    let version_ok = jsonrpc.is_some_and(|v| v.get() == r#""2.0""#);
    let answer = match (result, error) {
        _ if duplicate.is_some() => Answer::Malformed("an answer member appears twice"),
        _ if !version_ok => Answer::Malformed(r#"`jsonrpc` must be exactly "2.0""#),
        (Some(result), None) => Answer::Result(result),
        (None, Some(error)) => Answer::Error(error),
        (Some(_), Some(_)) => Answer::Malformed("an answer has both `result` and `error`"),
        (None, None) => Answer::Malformed("an answer has neither `result` nor `error`"),
    };
    Entry::Answer { id, answer, reason }
}
