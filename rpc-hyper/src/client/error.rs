//! The client's one error type, with predicates in the style of hyper's.

use std::fmt;

use http::StatusCode;
use rpc_core::ErrorObject;

/// Why a call through the [`Client`](super::Client) failed.
///
/// Ask it what happened with its predicates: the server's JSON-RPC error object
/// ([`Error::rpc`]), an HTTP status without one ([`Error::status`]), the transport
/// ([`Error::is_transport`], a WebSocket's loss: [`Error::is_closed`]), the time limit ([`Error::is_timeout`]), a
/// result that does not decode into the type asked for ([`Error::is_decode`]), an answer too
/// large ([`Error::is_too_large`]) or one that breaks the protocol ([`Error::is_protocol`]).
///
/// ```
/// # async fn f(client: rpc_hyper::Client) {
/// match client.request::<f64>("divide", (1, 0)).await {
///     Ok(quotient) => println!("{quotient}"),
///     Err(err) if err.rpc().is_some() => {
///         let error = err.rpc().unwrap();
///         println!("{} {}: {:?}", error.code(), error.message(), error.data());
///     }
///     Err(err) => println!("the call did not get an answer: {err}"),
/// }
/// # }
/// ```
pub struct Error(Box<Kind>);

#[derive(Debug)]
pub(crate) enum Kind {
    /// The server answered with an error object (with the HTTP status, when not 2xx).
    Rpc {
        error: ErrorObject,
        status: Option<StatusCode>,
    },
    /// An HTTP status other than 2xx, without a JSON-RPC error body.
    Status { status: StatusCode, body: String },
    /// Connecting, writing or reading failed.
    Transport(Box<dyn std::error::Error + Send + Sync>),
    /// The connection closed before the answer came (a WebSocket).
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    Closed(String),
    /// No answer within the time limit.
    Timeout,
    /// The result is not the type asked for.
    Decode(String),
    /// The answer is larger than the client takes.
    TooLarge(usize),
    /// The answer breaks the protocol: not JSON, wrong `jsonrpc`, an id that matches no call.
    Protocol(String),
    /// The params did not serialize.
    Params(String),
    /// The TLS handshake failed: why, in words (an unknown issuer, a name mismatch, ...).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls(String),
}

impl Error {
    pub(crate) fn new(kind: Kind) -> Self {
        Self(Box::new(kind))
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Self::new(Kind::Protocol(message.into()))
    }

    pub(crate) fn transport(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::new(Kind::Transport(err.into()))
    }

    /// The server's JSON-RPC error object, if it answered with one (over HTTP, whatever the
    /// status: a 4xx or 5xx with an error object in its body keeps it).
    pub fn rpc(&self) -> Option<&ErrorObject> {
        match &*self.0 {
            Kind::Rpc { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The error object, taken.
    pub fn into_rpc(self) -> Option<ErrorObject> {
        match *self.0 {
            Kind::Rpc { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The HTTP status, when it was not 2xx.
    pub fn status(&self) -> Option<StatusCode> {
        match &*self.0 {
            Kind::Rpc { status, .. } => *status,
            Kind::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether connecting, writing or reading failed.
    pub fn is_transport(&self) -> bool {
        matches!(&*self.0, Kind::Transport(_))
    }

    /// Whether no answer came within the time limit.
    pub fn is_timeout(&self) -> bool {
        matches!(&*self.0, Kind::Timeout)
    }

    /// Whether the result did not decode into the type asked for (the message is serde's).
    pub fn is_decode(&self) -> bool {
        matches!(&*self.0, Kind::Decode(_))
    }

    /// Whether the WebSocket connection closed before the answer came (the call may or may
    /// not have run), or a subscription ended with it.
    pub fn is_closed(&self) -> bool {
        matches!(&*self.0, Kind::Closed(_))
    }

    /// Whether the answer was larger than the client takes.
    pub fn is_too_large(&self) -> bool {
        matches!(&*self.0, Kind::TooLarge(_))
    }

    /// Whether the answer broke the protocol (not JSON, not a response, an unknown id). Over a
    /// WebSocket an answer for no call waiting is dropped (the call waits for its own).
    pub fn is_protocol(&self) -> bool {
        matches!(&*self.0, Kind::Protocol(_))
    }

    /// Whether the params did not serialize (nothing was sent).
    pub fn is_params(&self) -> bool {
        matches!(&*self.0, Kind::Params(_))
    }

    /// Whether the TLS handshake failed (the message says why: the certificate's issuer is
    /// not trusted, it names another host, it expired, the handshake timed out, or the server
    /// speaks no TLS version or cipher this client does).
    pub fn is_tls(&self) -> bool {
        matches!(&*self.0, Kind::Tls(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Kind::Rpc { error, status } => {
                write!(f, "the server answered error {error}")?;
                match status {
                    Some(status) => write!(f, " (HTTP {status})"),
                    None => Ok(()),
                }
            }
            Kind::Status { status, body } if body.is_empty() => write!(f, "HTTP {status}"),
            Kind::Status { status, body } => write!(f, "HTTP {status}: {body}"),
            Kind::Transport(err) => write!(f, "transport: {err}"),
            Kind::Closed(why) => write!(f, "the connection closed: {why}"),
            Kind::Timeout => f.write_str("no answer within the time limit"),
            Kind::Decode(err) => write!(f, "the result is not of the type asked for: {err}"),
            Kind::TooLarge(limit) => write!(f, "the answer is larger than {limit} bytes"),
            Kind::Protocol(why) => write!(f, "not a JSON-RPC answer: {why}"),
            Kind::Params(err) => write!(f, "the params did not serialize: {err}"),
            Kind::Tls(why) => write!(f, "TLS: {why}"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            Kind::Transport(err) => Some(&**err),
            _ => None,
        }
    }
}
