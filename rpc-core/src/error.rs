//! The JSON-RPC error object and the specification's error codes.

use std::borrow::Cow;
use std::fmt;
use std::ops::RangeInclusive;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::params::ParamsError;

/// A JSON-RPC error code.
///
/// The specification reserves -32768..=-32000: five codes have fixed meanings (the associated
/// constants below) and -32099..=-32000 is left to server implementations. Every other code is
/// free for application errors.
///
/// ```
/// use rpc_core::ErrorCode;
///
/// assert_eq!(ErrorCode::INVALID_PARAMS.code(), -32602);
/// assert_eq!(ErrorCode::INVALID_PARAMS.default_message(), Some("Invalid params"));
/// assert!(ErrorCode::new(-32001).is_server_error());
/// assert!(!ErrorCode::new(42).is_reserved());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(i32);

impl ErrorCode {
    /// -32700: the request body is not valid JSON.
    pub const PARSE_ERROR: Self = Self(-32700);
    /// -32600: the JSON sent is not a valid request object.
    pub const INVALID_REQUEST: Self = Self(-32600);
    /// -32601: no method of that name is registered.
    pub const METHOD_NOT_FOUND: Self = Self(-32601);
    /// -32602: the parameters do not fit the method.
    pub const INVALID_PARAMS: Self = Self(-32602);
    /// -32603: the server failed while handling the call.
    pub const INTERNAL_ERROR: Self = Self(-32603);
    /// -32008 (a server error): the call's result is larger than the transport sends; see
    /// [`Context::with_max_result_len`](crate::Context::with_max_result_len).
    pub const RESULT_TOO_LARGE: Self = Self(-32008);
    /// -32009 (a server error), "Subscriptions need a WebSocket connection": a subscribe call
    /// came over a transport that cannot push (plain HTTP). The method exists; call it over a
    /// WebSocket.
    pub const SUBSCRIPTION_NEEDS_WEBSOCKET: Self = Self(-32009);
    /// -32010 (a server error), "Too many subscriptions": the connection holds the most
    /// subscriptions it may (the limit is the error's `data`); the others go on.
    pub const TOO_MANY_SUBSCRIPTIONS: Self = Self(-32010);
    /// -32011 (a server error), "Needs a connection": the method calls its caller back (it
    /// takes a [`Peer`](crate::Peer)), and the call came over a transport with no way back
    /// (plain HTTP, over HTTP/1.1 or h2c alike). Call it over a WebSocket or a byte stream.
    pub const NEEDS_CONNECTION: Self = Self(-32011);
    /// -32012 (a server error), "The server is shutting down": the call came over a
    /// connection that is draining (its calls in flight are answered, no new one runs), or
    /// asked for a subscription as the connection closed. Call again on a new connection.
    pub const SHUTTING_DOWN: Self = Self(-32012);
    /// The codes the specification leaves to server implementations: -32099..=-32000.
    pub const SERVER_ERROR_RANGE: RangeInclusive<i32> = -32099..=-32000;
    /// All codes reserved by the specification: -32768..=-32000.
    pub const RESERVED_RANGE: RangeInclusive<i32> = -32768..=-32000;

    /// Wraps any integer code.
    pub const fn new(code: i32) -> Self {
        Self(code)
    }

    /// The integer sent on the wire.
    pub const fn code(self) -> i32 {
        self.0
    }

    /// The message the specification gives this code, for its five named codes.
    pub const fn default_message(self) -> Option<&'static str> {
        match self.0 {
            -32700 => Some("Parse error"),
            -32600 => Some("Invalid Request"),
            -32601 => Some("Method not found"),
            -32602 => Some("Invalid params"),
            -32603 => Some("Internal error"),
            _ => None,
        }
    }

    /// Whether the code lies in the range the specification leaves to servers (-32099..=-32000).
    pub const fn is_server_error(self) -> bool {
        self.0 >= -32099 && self.0 <= -32000
    }

    /// Whether the code lies in the range reserved by the specification (-32768..=-32000).
    pub const fn is_reserved(self) -> bool {
        self.0 >= -32768 && self.0 <= -32000
    }
}

impl From<i32> for ErrorCode {
    fn from(code: i32) -> Self {
        Self(code)
    }
}

impl From<ErrorCode> for i32 {
    fn from(code: ErrorCode) -> Self {
        code.0
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The error object of a JSON-RPC response: a code, a message and optional data.
///
/// The data member holds any serializable value; it is serialized once, when attached.
///
/// ```
/// use rpc_core::ErrorObject;
///
/// let err = ErrorObject::invalid_params("division by zero");
/// assert_eq!(
///     serde_json::to_string(&err).unwrap(),
///     r#"{"code":-32602,"message":"Invalid params","data":"division by zero"}"#
/// );
/// ```
///
/// A user's own error type converts with `From`, so a method may return `Result<T, MyError>`:
///
/// ```
/// use rpc_core::ErrorObject;
///
/// #[derive(Debug, thiserror::Error)]
/// enum BankError {
///     #[error("insufficient funds: {missing} short")]
///     InsufficientFunds { missing: u64 },
/// }
///
/// impl From<BankError> for ErrorObject {
///     fn from(err: BankError) -> Self {
///         match &err {
///             BankError::InsufficientFunds { missing } => {
///                 ErrorObject::new(1001, err.to_string()).with_data(missing)
///             }
///         }
///     }
/// }
///
/// let err: ErrorObject = BankError::InsufficientFunds { missing: 5 }.into();
/// assert_eq!(err.code(), 1001);
/// assert_eq!(err.message(), "insufficient funds: 5 short");
/// assert_eq!(err.data().map(|d| d.get()), Some("5"));
/// ```
#[derive(Clone, Debug)]
pub struct ErrorObject {
    code: ErrorCode,
    message: Cow<'static, str>,
    data: Option<Box<RawValue>>,
    /// What a decode error knows, for the router's shaper; never on the wire.
    params: Option<Box<ParamsError>>,
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for ErrorObject {}

impl ErrorObject {
    /// An error with any code and message, and no data. Use it for application errors.
    pub fn new(code: impl Into<ErrorCode>, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            data: None,
            params: None,
        }
    }

    /// The error with the specification's message for `code`, or "Server error" (server range)
    /// or "Application error" (any other code).
    pub fn from_code(code: impl Into<ErrorCode>) -> Self {
        let code = code.into();
        let message = match code.default_message() {
            Some(message) => message,
            None if code.is_server_error() => "Server error",
            None => "Application error",
        };
        Self::new(code, message)
    }

    /// -32700 "Parse error".
    pub fn parse_error() -> Self {
        Self::from_code(ErrorCode::PARSE_ERROR)
    }

    /// -32600 "Invalid Request".
    pub fn invalid_request() -> Self {
        Self::from_code(ErrorCode::INVALID_REQUEST)
    }

    /// -32601 "Method not found".
    pub fn method_not_found() -> Self {
        Self::from_code(ErrorCode::METHOD_NOT_FOUND)
    }

    /// -32602 "Invalid params" with `data` saying what is wrong.
    pub fn invalid_params(data: impl Serialize) -> Self {
        Self::from_code(ErrorCode::INVALID_PARAMS).with_data(data)
    }

    /// -32603 "Internal error".
    pub fn internal_error() -> Self {
        Self::from_code(ErrorCode::INTERNAL_ERROR)
    }

    /// -32012 "The server is shutting down" ([`ErrorCode::SHUTTING_DOWN`]): what a call that
    /// will not run gets while its connection drains.
    pub fn shutting_down() -> Self {
        Self::new(ErrorCode::SHUTTING_DOWN, "The server is shutting down")
    }

    /// An error in the server range (-32099..=-32000, see [`ErrorCode::SERVER_ERROR_RANGE`]).
    ///
    /// The code is taken as given; [`ErrorCode::is_server_error`] tells whether it is in range.
    pub fn server_error(code: i32, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(code, message)
    }

    /// Attaches `data`, replacing any data already there.
    ///
    /// A value that cannot be represented as JSON (such as a map with non-string keys) leaves
    /// the error without data, and the failure is logged.
    #[must_use]
    pub fn with_data(mut self, data: impl Serialize) -> Self {
        self.data = match serde_json::value::to_raw_value(&data) {
            Ok(raw) => Some(raw),
            Err(err) => {
                tracing::warn!(code = self.code.0, error = %err, "error data is not serializable");
                None
            }
        };
        self
    }

    /// The error code.
    pub fn code(&self) -> i32 {
        self.code.0
    }

    /// The error code as an [`ErrorCode`].
    pub fn error_code(&self) -> ErrorCode {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What went wrong with the params, when this is a decode error (-32602 made by this
    /// library from the params' text): which parameter, where, and why.
    pub fn params_error(&self) -> Option<&ParamsError> {
        self.params.as_deref()
    }

    /// A decode error of params that came after `before` others in the call: its position
    /// counts them.
    pub(crate) fn params_after(mut self, before: usize) -> Self {
        if let Some(params) = &mut self.params {
            params.shift(before);
        }
        self
    }

    pub(crate) fn with_params_error(mut self, error: ParamsError) -> Self {
        self.params = Some(Box::new(error));
        self
    }

    /// The data member as JSON text, if any.
    pub fn data(&self) -> Option<&RawValue> {
        self.data.as_deref()
    }

    /// The data member decoded as `T`; `None` when there is no data.
    pub fn data_as<'a, T: Deserialize<'a>>(&'a self) -> Option<serde_json::Result<T>> {
        self.data
            .as_deref()
            .map(|raw| serde_json::from_str(raw.get()))
    }
}

impl From<ErrorCode> for ErrorObject {
    fn from(code: ErrorCode) -> Self {
        Self::from_code(code)
    }
}

impl PartialEq for ErrorObject {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
            && self.message == other.message
            && self.data.as_deref().map(RawValue::get) == other.data.as_deref().map(RawValue::get)
    }
}

impl Eq for ErrorObject {}

impl Serialize for ErrorObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = if self.data.is_some() { 3 } else { 2 };
        let mut obj = serializer.serialize_struct("ErrorObject", len)?;
        obj.serialize_field("code", &self.code.0)?;
        obj.serialize_field("message", &self.message)?;
        if let Some(data) = &self.data {
            obj.serialize_field("data", data)?;
        }
        obj.end()
    }
}

impl<'de> Deserialize<'de> for ErrorObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ErrorVisitor;

        impl<'de> Visitor<'de> for ErrorVisitor {
            type Value = ErrorObject;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC error object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorObject, A::Error> {
                let mut code = None;
                let mut message: Option<String> = None;
                let mut data = None;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match &*key {
                        "code" if code.is_none() => code = Some(map.next_value::<i32>()?),
                        "message" if message.is_none() => message = Some(map.next_value()?),
                        "data" if data.is_none() => data = Some(map.next_value::<Box<RawValue>>()?),
                        "code" | "message" | "data" => {
                            return Err(de::Error::custom(format_args!("duplicate field `{key}`")))
                        }
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(ErrorObject {
                    code: ErrorCode(code.ok_or_else(|| de::Error::missing_field("code"))?),
                    message: message
                        .ok_or_else(|| de::Error::missing_field("message"))?
                        .into(),
                    data,
                    params: None,
                })
            }
        }

        deserializer.deserialize_map(ErrorVisitor)
    }
}

pub(crate) mod params;
#[cfg(test)]
mod tests;
