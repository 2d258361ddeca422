//! The raw parameters of a call.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::params::ParamsError;
use crate::ErrorObject;

/// The parameters of a call, still as the JSON text they arrived as: an array, an object, or
/// nothing (params absent or `null`).
///
/// A method decodes them itself, straight from the request bytes; [`Params::parse`] does so
/// with serde and turns a mismatch into -32602 "Invalid params".
///
/// ```
/// use rpc_core::Params;
///
/// let raw = serde_json::from_str(r#"[2, 3]"#).unwrap();
/// let params = Params::from_raw(raw).unwrap();
/// let (a, b): (i64, i64) = params.parse().unwrap();
/// assert_eq!(a + b, 5);
///
/// let err = params.parse::<(String, i64)>().unwrap_err();
/// assert_eq!(err.code(), -32602);
/// assert_eq!(
///     err.data().unwrap().get(),
///     r#""invalid type: integer `2`, expected a string""#
/// );
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Params<'a>(Option<&'a str>);

impl<'a> Params<'a> {
    /// No params.
    pub const NONE: Params<'static> = Params(None);

    /// Params from raw JSON: an array or object, or `null` for none. Any other value is not
    /// allowed as params: `None`.
    pub fn from_raw(raw: &'a RawValue) -> Option<Self> {
        Self::from_text(raw.get())
    }

    /// [`Params::from_raw`] on text known to be one JSON value.
    pub(crate) fn from_text(text: &'a str) -> Option<Self> {
        match text.as_bytes().first() {
            Some(b'[' | b'{') => Some(Params(Some(text))),
            Some(b'n') => Some(Params(None)),
            _ => None,
        }
    }

    /// Params known to be a valid JSON array or object.
    pub(crate) fn new(text: &'a str) -> Self {
        Params(Some(text))
    }

    /// Whether there are no params (absent or `null`).
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// Whether the params are a JSON array (by position).
    pub fn is_array(&self) -> bool {
        self.raw().is_some_and(|r| r.starts_with('['))
    }

    /// Whether the params are a JSON object (by name).
    pub fn is_object(&self) -> bool {
        self.raw().is_some_and(|r| r.starts_with('{'))
    }

    /// The params' JSON text.
    pub fn raw(&self) -> Option<&'a str> {
        self.0
    }

    /// Decodes the params as `T`; absent params decode as JSON `null`.
    ///
    /// On a mismatch the error is -32602 "Invalid params" with serde's description as data.
    pub fn parse<T: Deserialize<'a>>(&self) -> Result<T, ErrorObject> {
        let text = self.raw().unwrap_or("null");
        let mut de = serde_json::Deserializer::from_str(text);
        T::deserialize(&mut de)
            .and_then(|value| de.end().map(|()| value))
            .map_err(|err| ParamsError::malformed(serde_error_message(&err)).into_error())
    }
}

/// serde_json's message without its " at line L column C" suffix, which points into text the
/// client never saw as such.
pub(crate) fn serde_error_message(err: &serde_json::Error) -> String {
    let mut message = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    if message.ends_with(&suffix) {
        message.truncate(message.len() - suffix.len());
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> &RawValue {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn only_arrays_objects_and_null_are_params() {
        assert!(Params::from_raw(raw("[1]")).unwrap().is_array());
        assert!(Params::from_raw(raw(r#"{"a":1}"#)).unwrap().is_object());
        assert!(Params::from_raw(raw("null")).unwrap().is_none());
        for text in ["1", r#""s""#, "true", "false", "-2.5"] {
            assert!(Params::from_raw(raw(text)).is_none(), "{text}");
        }
    }

    #[test]
    fn parse_reports_invalid_params_without_positions() {
        #[derive(Deserialize, Debug)]
        struct Named {
            #[allow(dead_code)]
            a: i64,
        }
        let err = Params::from_raw(raw(r#"{"b":1}"#))
            .unwrap()
            .parse::<Named>()
            .unwrap_err();
        assert_eq!(err.code(), -32602);
        assert_eq!(err.data().unwrap().get(), r#""missing field `a`""#);
        let none = Params::NONE.parse::<Option<Named>>().unwrap();
        assert!(none.is_none());
        assert!(Params::NONE.parse::<Named>().is_err());
    }
}
