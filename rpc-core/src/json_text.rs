//! JSON strings as text: reading one out of a value's JSON text, writing one. A leaf: the
//! types that carry JSON text (ids, requests, responses) share it, and it needs none of them.

use std::borrow::Cow;

/// Decodes JSON text that holds a string; `None` when it holds anything else (or a string with
/// an unpaired surrogate escape). Borrows when the string has no escapes.
pub(crate) fn json_str(text: &str) -> Option<Cow<'_, str>> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    // A plain loop: the strings it is given (versions, method names, ids) are short, too
    // short for `memchr`'s set-up to pay.
    if inner.bytes().any(|b| b == b'\\') {
        serde_json::from_str::<String>(text).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// Appends a JSON string literal.
pub(crate) fn write_json_str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(out, s);
}
