//! The request id.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Unexpected};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// A request id: a string, a number or `null`.
///
/// Numbers keep the exact text they arrived with, so an id beyond the range of `i64` or `u64`,
/// or a fractional one, is echoed back unchanged. Whether a request has an id at all (a call) or
/// none (a notification) is told by `Option<Id>`, so *absent* and `null` stay apart.
///
/// ```
/// use rpc_core::Id;
///
/// assert_eq!(Id::from(7).to_string(), "7");
/// assert_eq!(Id::from("abc").as_str(), Some("abc"));
/// let huge: Id = serde_json::from_str("123456789012345678901234567890").unwrap();
/// assert_eq!(huge.to_string(), "123456789012345678901234567890");
/// assert!(serde_json::from_str::<Id>("true").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Id<'a>(Repr<'a>);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Repr<'a> {
    Null,
    /// Validated JSON number text.
    Number(Cow<'a, str>),
    /// The decoded string.
    Str(Cow<'a, str>),
}

impl<'a> Id<'a> {
    /// The `null` id.
    pub const NULL: Id<'static> = Id(Repr::Null);

    /// Reads an id from raw JSON. Arrays, objects and booleans are not ids: `None`.
    pub fn from_raw(raw: &'a RawValue) -> Option<Self> {
        Self::from_json_text(raw.get())
    }

    /// Classifies JSON text already validated as a single value.
    pub(crate) fn from_json_text(text: &'a str) -> Option<Self> {
        match text.as_bytes().first()? {
            b'n' => Some(Id(Repr::Null)),
            b'-' | b'0'..=b'9' => Some(Id(Repr::Number(Cow::Borrowed(text)))),
            b'"' => crate::json_text::json_str(text).map(|s| Id(Repr::Str(s))),
            _ => None,
        }
    }

    /// Whether this is the `null` id.
    pub fn is_null(&self) -> bool {
        matches!(self.0, Repr::Null)
    }

    /// The string, if the id is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number's JSON text, if the id is a number.
    pub fn as_number_text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as an `i64`, if the id is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number_text()?.parse().ok()
    }

    /// The number as a `u64`, if the id is a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_number_text()?.parse().ok()
    }

    /// An id that owns its text.
    pub fn into_owned(self) -> Id<'static> {
        Id(match self.0 {
            Repr::Null => Repr::Null,
            Repr::Number(n) => Repr::Number(Cow::Owned(n.into_owned())),
            Repr::Str(s) => Repr::Str(Cow::Owned(s.into_owned())),
        })
    }

    /// Appends the id as JSON.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        match &self.0 {
            Repr::Null => out.extend_from_slice(b"null"),
            Repr::Number(n) => out.extend_from_slice(n.as_bytes()),
            Repr::Str(s) => crate::json_text::write_json_str(out, s),
        }
    }
}

macro_rules! id_from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Id<'static> {
            fn from(n: $t) -> Self {
                Id(Repr::Number(Cow::Owned(n.to_string())))
            }
        }
    )*};
}
id_from_integer!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl<'a> From<&'a str> for Id<'a> {
    fn from(s: &'a str) -> Self {
        Id(Repr::Str(Cow::Borrowed(s)))
    }
}

impl From<String> for Id<'static> {
    fn from(s: String) -> Self {
        Id(Repr::Str(Cow::Owned(s)))
    }
}

impl<'a> From<Cow<'a, str>> for Id<'a> {
    fn from(s: Cow<'a, str>) -> Self {
        Id(Repr::Str(s))
    }
}

/// Writes the id as JSON text.
impl fmt::Display for Id<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = Vec::new();
        self.write_json(&mut buf);
        f.write_str(&String::from_utf8_lossy(&buf))
    }
}

impl Serialize for Id<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Null => serializer.serialize_unit(),
            Repr::Str(s) => serializer.serialize_str(s),
            Repr::Number(text) => {
                // An integer only when writing it back gives the same text (not for `-0`).
                match (text.parse::<i64>(), text.parse::<u64>()) {
                    (Ok(n), _) if n.to_string() == **text => serializer.serialize_i64(n),
                    (_, Ok(n)) if n.to_string() == **text => serializer.serialize_u64(n),
                    _ => {
                        // Beyond 64 bits or fractional: hand serde_json the exact text.
                        let raw: &RawValue =
                            serde_json::from_str(text).map_err(serde::ser::Error::custom)?;
                        raw.serialize(serializer)
                    }
                }
            }
        }
    }
}

/// Deserializes from JSON text held in memory (`serde_json::from_str` / `from_slice`), keeping
/// numbers exact.
impl<'de: 'a, 'a> Deserialize<'de> for Id<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        Id::from_raw(raw).ok_or_else(|| {
            de::Error::invalid_type(Unexpected::Other(raw.get()), &"a string, number or null")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Option<Id<'_>> {
        serde_json::from_str(text).ok()
    }

    #[test]
    fn numbers_echo_their_exact_text() {
        for text in [
            "0",
            "-1",
            "9223372036854775807",
            "-9223372036854775809",
            "18446744073709551616",
            "123456789012345678901234567890",
            "1.5",
            "-0",
            "-0.0",
            "1e400",
            "2E-3",
        ] {
            let id = parse(text).unwrap();
            assert_eq!(id.to_string(), text);
            assert_eq!(serde_json::to_string(&id).unwrap(), text);
        }
        assert_eq!(parse("-3").unwrap().as_i64(), Some(-3));
        assert_eq!(
            parse("18446744073709551615").unwrap().as_u64(),
            Some(u64::MAX)
        );
        assert_eq!(parse("1.5").unwrap().as_i64(), None);
    }

    #[test]
    fn strings_and_null() {
        let id = parse(r#""a\"b\u00e9""#).unwrap();
        assert_eq!(id.as_str(), Some("a\"bé"));
        assert_eq!(id.to_string(), r#""a\"bé""#);
        assert!(parse("null").unwrap().is_null());
        assert_eq!(Id::NULL.to_string(), "null");
        assert_eq!(Id::from(String::from("x")).into_owned(), Id::from("x"));
    }

    #[test]
    fn arrays_objects_and_booleans_are_not_ids() {
        for text in ["[]", "[1]", "{}", r#"{"a":1}"#, "true", "false"] {
            assert!(parse(text).is_none(), "{text}");
        }
    }

    #[test]
    fn integer_conversions() {
        assert_eq!(Id::from(-5i64).to_string(), "-5");
        assert_eq!(Id::from(u128::MAX).to_string(), u128::MAX.to_string());
        assert_eq!(Id::from(u128::MAX).as_u64(), None);
    }
}
