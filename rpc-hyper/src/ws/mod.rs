//! The WebSocket transport (the `ws` feature): a `GET` with `Upgrade: websocket` on the RPC
//! path becomes a WebSocket connection on which every request of the HTTP contract gets the
//! same answer, as a text frame.
//!
//! Under [`serve`](crate::serve), the connection that carried the upgrade request runs the
//! WebSocket itself once hyper has written the `101` answer: it stays one of the server's
//! connections (counted, drained on shutdown). Mounted elsewhere (axum's own server, say),
//! the endpoint takes the socket through `hyper::upgrade` and runs it on a task of its own.

mod connection;

#[cfg(feature = "client")]
pub(crate) use connection::Frames;

use std::sync::Arc;

use http::header::{
    HeaderValue, CONNECTION, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rpc_core::Router;
use tokio::sync::OwnedSemaphorePermit;

use crate::head::Head;
use crate::local::{Connection, Upgrade};
use crate::response::ResponseBody;
use crate::tracked::TrackedIo;

/// How long a WebSocket connection may be quiet before the server pings it, by default: 30 s.
/// A connection that then stays quiet for as long again is closed.
pub const DEFAULT_PING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// The WebSocket settings of an endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// Origins a browser page may open a WebSocket from; requests without `Origin` (not from
    /// a browser) are always accepted.
    pub(crate) allowed_origins: Vec<Box<str>>,
    /// Each connection's settings: the engine's.
    pub(crate) engine: crate::engine::Config,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            engine: crate::engine::Config::new(crate::engine::Liveness::Ping(
                DEFAULT_PING_INTERVAL,
            )),
        }
    }
}

/// Whether the request asks for a WebSocket: a `GET` with `Upgrade: websocket`.
pub(crate) fn is_upgrade<B>(request: &Request<B>) -> bool {
    request.method() == Method::GET && has_token(request.headers(), UPGRADE, "websocket")
}

/// Whether a comma-separated header holds `token`, in any case.
fn has_token(headers: &HeaderMap, name: http::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .as_bytes()
            .split(|&b| b == b',')
            .any(|part| part.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// Answers an upgrade request: `101 Switching Protocols` with the WebSocket to run, or the
/// refusal (`400` for a malformed handshake, `426` for another WebSocket version, `403` for
/// an origin that is not allowed).
pub(crate) fn upgrade<S, B>(
    router: &Arc<Router<S>>,
    config: &Config,
    mut request: Request<B>,
    connection: Option<Connection>,
) -> Response<ResponseBody>
where
    S: Send + Sync + 'static,
{
    let headers = request.headers();
    // HTTP/1.1's upgrade only: hyper does not hand over an HTTP/1.0 connection.
    if request.version() != http::Version::HTTP_11 || !has_token(headers, CONNECTION, "upgrade") {
        return refusal(
            StatusCode::BAD_REQUEST,
            "Bad Request: not a WebSocket handshake",
        );
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        let mut response = refusal(
            StatusCode::UPGRADE_REQUIRED,
            "Upgrade Required: WebSocket version 13",
        );
        response
            .headers_mut()
            .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return response;
    }
    let Some(key) = headers.get(SEC_WEBSOCKET_KEY) else {
        return refusal(StatusCode::BAD_REQUEST, "Bad Request: no Sec-WebSocket-Key");
    };
    // A page on another origin must not reach a server on the user's machine through the
    // user's browser: browsers always send `Origin`, other clients need not.
    if let Some(origin) = headers.get(ORIGIN) {
        let allowed = config
            .allowed_origins
            .iter()
            .any(|allowed| allowed.as_bytes() == origin.as_bytes());
        if !allowed {
            tracing::debug!(origin = ?origin, "a WebSocket from an origin not allowed");
            return refusal(StatusCode::FORBIDDEN, "Forbidden: origin not allowed");
        }
    }
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let Ok(accept) = HeaderValue::from_str(&accept) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "Bad Request: bad Sec-WebSocket-Key",
        );
    };

    let on_upgrade = hyper::upgrade::on(&mut request);
    let (parts, _) = request.into_parts();
    let head = Head {
        headers: detached(&parts.headers),
        extensions: parts.extensions,
        version: parts.version,
        connection,
        max_result_len: config.engine.max_message_size,
    };
    let (router, config) = (Arc::clone(router), config.clone());
    if connection.is_some() {
        // A connection of `serve`: it runs the WebSocket on its socket after the answer.
        let run = move |io: TrackedIo, slot: Option<OwnedSemaphorePermit>| {
            let control = Arc::clone(io.control());
            tokio::spawn(async move {
                connection::run(io, router, head, config, Some(control)).await;
                drop(slot);
            });
        };
        Connection::offer_upgrade(Upgrade(Box::new(run)));
    } else {
        // Elsewhere, hyper hands the socket over once it has written the answer.
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let io = TokioIo::new(upgraded);
                    connection::run(io, router, head, config, None).await;
                }
                Err(err) => tracing::debug!(error = %err, "a WebSocket upgrade failed"),
            }
        });
    }

    let mut response = Response::new(ResponseBody::default());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    response
}

/// The headers, copied out of the buffer hyper read them into. Parsed headers are slices of
/// that buffer, so keeping them for a WebSocket's life would keep the whole buffer (8 KiB
/// and more) with them; the copy is the size of the headers.
fn detached(headers: &HeaderMap) -> HeaderMap {
    let mut copy = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        // Standard names are static; other names and every value are copied.
        let name = http::HeaderName::from_bytes(name.as_str().as_bytes());
        let value = HeaderValue::from_bytes(value.as_bytes()).map(|mut copied| {
            copied.set_sensitive(value.is_sensitive());
            copied
        });
        if let (Ok(name), Ok(value)) = (name, value) {
            copy.append(name, value);
        }
    }
    copy
}

fn refusal(status: StatusCode, text: &'static str) -> Response<ResponseBody> {
    crate::response::plain(status, text)
}
