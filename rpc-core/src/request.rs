//! The request object, and the tolerant parser the dispatcher reads requests with.
//!
//! The dispatcher must answer a malformed request object with -32600 and, where it can, the
//! request's own id. So it never lets serde fail on a member of the wrong type: every member is
//! captured as raw JSON text in one pass over the input, then checked.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::json_text::json_str;
use crate::{Id, Params};
use answer::answer;
pub(crate) use answer::Answer;

/// A JSON-RPC 2.0 request or notification, borrowing from the text it was read from.
///
/// `params` stays raw JSON text until the method decodes it; `null` and absent params both read
/// as no params. `id: None` makes the request a notification.
///
/// ```
/// use rpc_core::Request;
///
/// let req: Request<'_> =
///     serde_json::from_str(r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#).unwrap();
/// assert_eq!(req.method, "add");
/// assert_eq!(req.params.raw(), Some("[2,3]"));
/// assert_eq!(req.id.unwrap().as_i64(), Some(1));
///
/// let out = Request::new("ping").to_json();
/// assert_eq!(out, r#"{"jsonrpc":"2.0","method":"ping"}"#);
/// ```
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The method name.
    pub method: Cow<'a, str>,
    /// The parameters, still as JSON text.
    pub params: Params<'a>,
    /// The id; `None` for a notification.
    pub id: Option<Id<'a>>,
}

impl<'a> Request<'a> {
    /// A notification of `method` with no params; set `params` and `id` to make a call.
    pub fn new(method: impl Into<Cow<'a, str>>) -> Self {
        Self {
            method: method.into(),
            params: Params::NONE,
            id: None,
        }
    }

    /// Whether this is a notification (no id).
    pub fn is_notification(&self) -> bool {
        self.id.is_none()
    }

    /// The request as JSON text.
    pub fn to_json(&self) -> String {
        // Serializing these fields cannot fail: every one is valid JSON already.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for Request<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = 2 + usize::from(self.params.raw().is_some()) + usize::from(self.id.is_some());
        let mut obj = serializer.serialize_struct("Request", len)?;
        obj.serialize_field("jsonrpc", "2.0")?;
        obj.serialize_field("method", &self.method)?;
        if let Some(params) = self.params.raw() {
            // Valid JSON text already: written as it is.
            let raw: &RawValue = serde_json::from_str(params).map_err(ser::Error::custom)?;
            obj.serialize_field("params", raw)?;
        }
        if let Some(id) = &self.id {
            obj.serialize_field("id", id)?;
        }
        obj.end()
    }
}

/// Strict: a request object that breaks the specification is an error. Needs JSON text held in
/// memory (`serde_json::from_str` / `from_slice`).
impl<'de: 'a, 'a> Deserialize<'de> for Request<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_map(ObjectVisitor)? {
            Entry::Call(request) => Ok(request),
            Entry::Invalid { reason, .. } => Err(de::Error::custom(reason)),
            Entry::Answer { .. } => Err(de::Error::custom("an answer, not a request")),
        }
    }
}

/// One element of a request body, as read by the tolerant parser.
#[derive(Debug)]
pub(crate) enum Entry<'a> {
    /// A well-formed request.
    Call(Request<'a>),
    /// Not a valid request object; answered with -32600 and `id` (or `null`).
    Invalid {
        id: Option<Id<'a>>,
        reason: &'static str,
    },
    /// An object with no `method`: an answer to a request this side sent, for its
    /// [`Peer`](crate::Peer). Where there is none, it is an invalid request, with the same id
    /// and for this reason.
    Answer {
        id: Option<Id<'a>>,
        answer: Answer<'a>,
        reason: &'static str,
    },
}

impl Entry<'_> {
    fn not_an_object() -> Self {
        Entry::Invalid {
            id: None,
            reason: "a request must be a JSON object",
        }
    }
}

/// A whole request body.
#[derive(Debug)]
pub(crate) enum Body<'a> {
    Single(Entry<'a>),
    Batch(Vec<Entry<'a>>),
    /// A batch longer than the limit; its length.
    BatchTooLong(usize),
}

/// Parses a request body. `Err` means the body is not one valid JSON text (a parse error), and
/// says where it breaks.
pub(crate) fn parse_body(body: &[u8], max_batch_len: usize) -> Result<Body<'_>, String> {
    // JSON text is UTF-8 (RFC 8259); validating it once up front spares every raw value a check.
    let text = std::str::from_utf8(body)
        .map_err(|err| format!("invalid UTF-8 at byte {}", err.valid_up_to()))?;
    match scan::scan_body(text, max_batch_len) {
        Some(body) => Ok(body),
        None => parse_with_serde(text, max_batch_len),
    }
}

/// Parses a request body with serde: whatever the fast path leaves, and what it says of why
/// a body is no valid JSON.
fn parse_with_serde(text: &str, max_batch_len: usize) -> Result<Body<'_>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = BodySeed { max_batch_len }
        .deserialize(&mut de)
        .and_then(|parsed| de.end().map(|()| parsed))
        .map_err(|err| err.to_string())?;
    Ok(parsed)
}

struct BodySeed {
    max_batch_len: usize,
}

impl<'de> DeserializeSeed<'de> for BodySeed {
    type Value = Body<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Body<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Every visit method of a visitor that turns anything but an object into `$value`, draining
/// arrays and maps it passes over.
macro_rules! non_objects_are {
    ($value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

impl<'de> Visitor<'de> for BodySeed {
    type Value = Body<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC request or batch")
    }

    non_objects_are!(Body::Single(Entry::not_an_object()));

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Body<'de>, A::Error> {
        ObjectVisitor.visit_map(map).map(Body::Single)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Body<'de>, A::Error> {
        // serde_json gives no length: start big enough for common batches, grow from there.
        let expected = seq.size_hint().unwrap_or(16);
        let mut entries = Vec::with_capacity(expected.min(self.max_batch_len));
        while let Some(entry) = seq.next_element_seed(EntryVisitor)? {
            if entries.len() == self.max_batch_len {
                // Keep reading only to tell a parse error from an over-long batch.
                let mut len = entries.len() + 1;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    len += 1;
                }
                return Ok(Body::BatchTooLong(len));
            }
            entries.push(entry);
        }
        Ok(Body::Batch(entries))
    }
}

/// One batch element: an object is parsed, anything else is an invalid request.
struct EntryVisitor;

impl<'de> DeserializeSeed<'de> for EntryVisitor {
    type Value = Entry<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Entry<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC request")
    }

    non_objects_are!(Entry::not_an_object());

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entry<'de>, A::Error> {
        ObjectVisitor.visit_map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entry<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Entry::not_an_object())
    }
}

/// The member names the parser tells apart.
#[derive(Clone, Copy)]
enum Key {
    Jsonrpc,
    Method,
    Params,
    Id,
    Result,
    Error,
    Other,
}

impl Key {
    /// The member named `name`.
    fn of(name: &[u8]) -> Key {
        match name {
            b"jsonrpc" => Key::Jsonrpc,
            b"method" => Key::Method,
            b"params" => Key::Params,
            b"id" => Key::Id,
            b"result" => Key::Result,
            b"error" => Key::Error,
            _ => Key::Other,
        }
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(Key::of(key.as_bytes()))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Reads one request object, capturing each member raw; never fails on content, only on syntax.
struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Entry<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC request object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry<'de>, A::Error> {
        let mut jsonrpc: Option<&'de RawValue> = None;
        let mut method: Option<&'de RawValue> = None;
        let mut params: Option<&'de RawValue> = None;
        let mut id: Option<&'de RawValue> = None;
        let mut result: Option<&'de RawValue> = None;
        let mut error: Option<&'de RawValue> = None;
        // Which member came twice: the id (then no id can be trusted), or another.
        let mut duplicate: Option<Key> = None;
        while let Some(key) = map.next_key::<Key>()? {
            let slot = match key {
                Key::Jsonrpc => &mut jsonrpc,
                Key::Method => &mut method,
                Key::Params => &mut params,
                Key::Id => &mut id,
                Key::Result => &mut result,
                Key::Error => &mut error,
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if slot.is_some() && !matches!(duplicate, Some(Key::Id)) {
                duplicate = Some(key);
            }
            *slot = Some(map.next_value()?);
        }
        let text = |raw: Option<&'de RawValue>| raw.map(RawValue::get);
        let checked = check(
            text(jsonrpc),
            text(method),
            text(params),
            text(id),
            duplicate,
        );
        if method.is_none() {
            // Why it is no request: the id it would be answered with is the answer's own.
            let reason = match checked {
                Entry::Invalid { reason, .. } => reason,
                _ => "`method` must be a string",
            };
            return Ok(answer(jsonrpc, id, result, error, duplicate, reason));
        }
        Ok(checked)
    }
}

/// Checks the captured members of a request object, each the JSON text of one value.
fn check<'a>(
    jsonrpc: Option<&'a str>,
    method: Option<&'a str>,
    params: Option<&'a str>,
    id: Option<&'a str>,
    duplicate: Option<Key>,
) -> Entry<'a> {
    let invalid = |id, reason| Entry::Invalid { id, reason };
    if matches!(duplicate, Some(Key::Id)) {
        return invalid(None, "`id` appears twice");
    }
    let id = match id {
        None => None,
        Some(raw) => match Id::from_json_text(raw) {
            Some(id) => Some(id),
            None => return invalid(None, "`id` must be a string, a number or null"),
        },
    };
    if duplicate.is_some() {
        return invalid(id, "a request member appears twice");
    }
    let version_ok =
        jsonrpc.is_some_and(|v| v == r#""2.0""# || json_str(v).as_deref() == Some("2.0"));
    if !version_ok {
        return invalid(id, r#"`jsonrpc` must be exactly "2.0""#);
    }
    let Some(method) = method.and_then(json_str) else {
        return invalid(id, "`method` must be a string");
    };
    let params = match params.map(|p| (p, p.as_bytes().first())) {
        None | Some((_, Some(b'n'))) => Params::NONE,
        Some((raw, Some(b'[' | b'{'))) => Params::new(raw),
        Some(_) => return invalid(id, "`params` must be an array or an object"),
    };
    Entry::Call(Request { method, params, id })
}

mod answer;
mod scan;
#[cfg(test)]
mod tests;
