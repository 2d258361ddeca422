//! The response object, and the writers the dispatcher builds responses with.

use std::fmt;
use std::io::Write as _;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::json_text::write_json_str;
use crate::{ErrorObject, Id};

/// A JSON-RPC 2.0 response: the id of the call it answers and either a result or an error.
///
/// The dispatcher writes responses straight into bytes; this type is for clients and tests that
/// read them, and for anyone who wants to build one by hand. `T` is the result's type, raw JSON
/// text by default.
///
/// ```
/// use rpc_core::{ErrorObject, Id, Response};
///
/// let ok: Response<'_, i64> = serde_json::from_str(r#"{"jsonrpc":"2.0","result":5,"id":1}"#).unwrap();
/// assert_eq!(ok.outcome, Ok(5));
///
/// let err = Response::<()>::error(Id::NULL, ErrorObject::parse_error());
/// assert_eq!(
///     serde_json::to_string(&err).unwrap(),
///     r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Response<'a, T = &'a RawValue> {
    /// The id of the call answered (`null` when it could not be read).
    pub id: Id<'a>,
    /// The result, or the error object.
    pub outcome: Result<T, ErrorObject>,
}

impl<'a, T> Response<'a, T> {
    /// A success response.
    pub fn result(id: Id<'a>, result: T) -> Self {
        Self {
            id,
            outcome: Ok(result),
        }
    }

    /// An error response.
    pub fn error(id: Id<'a>, error: ErrorObject) -> Self {
        Self {
            id,
            outcome: Err(error),
        }
    }
}

impl<T: Serialize> Serialize for Response<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut obj = serializer.serialize_struct("Response", 3)?;
        obj.serialize_field("jsonrpc", "2.0")?;
        match &self.outcome {
            Ok(result) => obj.serialize_field("result", result)?,
            Err(error) => obj.serialize_field("error", error)?,
        }
        obj.serialize_field("id", &self.id)?;
        obj.end()
    }
}

/// Strict: `jsonrpc` must be "2.0", the id must be present, and exactly one of `result` and
/// `error`. Needs JSON text held in memory (`serde_json::from_str` / `from_slice`).
impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Response<'a, T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ResponseVisitor(PhantomData))
    }
}

struct ResponseVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ResponseVisitor<T> {
    type Value = Response<'de, T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC 2.0 response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut version_seen = false;
        let mut outcome = None;
        let mut id = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "jsonrpc" if !version_seen => {
                    if map.next_value::<std::borrow::Cow<'de, str>>()? != "2.0" {
                        return Err(de::Error::custom(r#"`jsonrpc` must be "2.0""#));
                    }
                    version_seen = true;
                }
                "result" if outcome.is_none() => outcome = Some(Ok(map.next_value()?)),
                "error" if outcome.is_none() => outcome = Some(Err(map.next_value()?)),
                "id" if id.is_none() => id = Some(map.next_value()?),
                "jsonrpc" | "id" => {
                    return Err(de::Error::custom(format_args!("duplicate `{key}`")))
                }
                "result" | "error" => {
                    return Err(de::Error::custom(
                        "a response has exactly one of `result` and `error`",
                    ))
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !version_seen {
            return Err(de::Error::missing_field("jsonrpc"));
        }
        Ok(Response {
            id: id.ok_or_else(|| de::Error::missing_field("id"))?,
            outcome: outcome.ok_or_else(|| de::Error::missing_field("result"))?,
        })
    }
}

const RESULT_PREFIX: &[u8] = br#"{"jsonrpc":"2.0","result":"#;
const ERROR_PREFIX: &[u8] = br#"{"jsonrpc":"2.0","error":"#;

/// Appends the start of a success response; the result's JSON goes next, then [`write_end`].
pub(crate) fn write_result_start(out: &mut Vec<u8>) {
    out.extend_from_slice(RESULT_PREFIX);
}

/// Closes a response with its id (`null` when none could be read).
pub(crate) fn write_end(out: &mut Vec<u8>, id: Option<&Id<'_>>) {
    out.extend_from_slice(br#","id":"#);
    match id {
        Some(id) => id.write_json(out),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

/// Appends a whole error response.
pub(crate) fn write_error(out: &mut Vec<u8>, id: Option<&Id<'_>>, error: &ErrorObject) {
    out.extend_from_slice(ERROR_PREFIX);
    // Writing to a Vec cannot fail, and every part of an ErrorObject is valid JSON.
    let _ = serde_json::to_writer(&mut *out, error);
    write_end(out, id);
}

/// Appends `value` as JSON; on failure, leaves `out` as it was.
pub(crate) fn write_json<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), ErrorObject> {
    let mark = out.len();
    serde_json::to_writer(&mut *out, value).map_err(|err| {
        out.truncate(mark);
        tracing::error!(error = %err, "a method's result could not be serialized");
        ErrorObject::internal_error()
    })
}

/// Appends a request to `out`: a call with `id`, or a notification without. Params that
/// serialize as `null` (such as `()`) are left out. On a serialization error, `out` is left as
/// it was.
///
/// ```
/// let mut out = Vec::new();
/// rpc_core::write_request(&mut out, "ping", &(), None).unwrap();
/// assert_eq!(out, br#"{"jsonrpc":"2.0","method":"ping"}"#);
/// ```
pub fn write_request<P: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    method: &str,
    params: &P,
    id: Option<u64>,
) -> Result<(), serde_json::Error> {
    let mark = out.len();
    out.extend_from_slice(br#"{"jsonrpc":"2.0","method":"#);
    write_json_str(out, method);
    let params_at = out.len();
    out.extend_from_slice(br#","params":"#);
    let value_at = out.len();
    if let Err(err) = serde_json::to_writer(&mut *out, params) {
        out.truncate(mark);
        return Err(err);
    }
    if &out[value_at..] == b"null" {
        out.truncate(params_at);
    }
    if let Some(id) = id {
        // Writing to a Vec cannot fail.
        let _ = write!(out, r#","id":{id}"#);
    }
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_produce_spec_shaped_responses() {
        let mut out = Vec::new();
        write_result_start(&mut out);
        write_json(&mut out, &19).unwrap();
        write_end(&mut out, Some(&Id::from(1)));
        assert_eq!(out, br#"{"jsonrpc":"2.0","result":19,"id":1}"#);
        out.clear();
        write_error(&mut out, None, &ErrorObject::parse_error());
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}"#
        );
    }

    #[test]
    fn unserializable_results_leave_the_buffer_untouched() {
        let mut map = std::collections::BTreeMap::new();
        map.insert((1, 2), 3);
        let mut out = b"keep".to_vec();
        let err = write_json(&mut out, &map).unwrap_err();
        assert_eq!(err.code(), -32603);
        assert_eq!(out, b"keep");
    }

    #[test]
    fn deserialize_is_strict() {
        fn parse(text: &str) -> serde_json::Result<Response<'_>> {
            serde_json::from_str(text)
        }
        assert!(parse(r#"{"jsonrpc":"2.0","result":null,"id":1}"#)
            .unwrap()
            .outcome
            .is_ok());
        assert!(parse(r#"{"jsonrpc":"2.0","result":1}"#).is_err());
        assert!(parse(r#"{"jsonrpc":"2.0","id":1}"#).is_err());
        assert!(parse(r#"{"jsonrpc":"1.0","result":1,"id":1}"#).is_err());
        assert!(parse(r#"{"result":1,"id":1}"#).is_err());
        assert!(
            parse(r#"{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":""},"id":1}"#)
                .is_err()
        );
        let err = parse(
            r#"{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"1"}"#,
        )
        .unwrap();
        assert_eq!(err.outcome.unwrap_err(), ErrorObject::method_not_found());
        assert_eq!(err.id.as_str(), Some("1"));
    }
}
