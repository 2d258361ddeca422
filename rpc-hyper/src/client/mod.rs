//! The client (the `client` feature): calls, notifications and batches to a JSON-RPC server
//! over HTTP/1.1 (kept-alive connections, pooled) or h2c, typed by the stubs the attributes
//! generate or by the caller.
//!
//! Over HTTP/1.1 each call is one write and, as a rule, one read, on a connection the calling
//! task holds for the exchange: the client's own small HTTP/1.1 exchange (answers parsed by
//! `httparse`, hyper's parser) rather than hyper's client connection, whose task and channels
//! were most of the client's CPU per call. It reads every framing a server may use (a length,
//! chunks, the close) and skips informational answers; a connection is kept only when the
//! server keeps it. h2c runs on hyper's client connection.
//!
//! With the `tls` feature, `https://` and `wss://` URLs run the same exchange, and the same
//! WebSocket, over TLS (rustls on ring;
//! the Mozilla roots compiled in, a private CA added with
//! [`ClientBuilder::add_root_certificate`], or a configuration of your own with
//! [`ClientBuilder::tls_config`]); `http2_prior_knowledge` then asks for h2 by ALPN. A failed
//! handshake is [`Error::is_tls`], and its message says why.
//!
//! ```no_run
//! # async fn f() -> Result<(), rpc_hyper::client::Error> {
//! use rpc_hyper::Client;
//!
//! let client = Client::builder("http://127.0.0.1:5000/rpc").build()?;
//! // Untyped: the name, params by position (a tuple) or by name (a struct, a map).
//! let sum: i64 = client.request("add", (2, 3)).await?;
//! assert_eq!(sum, 5);
//! // Typed, by the stub `#[rpc_method]` generates beside `fn add` (rpc-core's `client`
//! // feature): `client.call(add::call(2, 3)).await?` is an `i64`.
//! # Ok(()) }
//! ```

mod answer;
mod batch;
mod builder;
mod error;
mod h1;
mod http;
mod io;
#[cfg(feature = "ws")]
mod subscription;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "ws")]
mod ws;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ::http::StatusCode;
use rpc_core::TypedCall;
use serde::de::DeserializeOwned;
use serde::Serialize;

#[cfg(feature = "ws")]
use answer::single_answer;
use answer::{decode_answer, nothing_due, status_error, within, Trace};
pub use batch::{Batch, Replies, Slot};
pub use builder::ClientBuilder;
pub use error::Error;
use error::Kind;
#[cfg(feature = "ws")]
pub use subscription::Subscription;

/// How long a call may wait for its answer by default: 30 s.
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest answer the client takes by default: 10 MiB, as the server's body limit.
pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 10 * 1024 * 1024;

/// A JSON-RPC client. Cheap to clone: clones share the connections.
///
/// | setting | default | set with |
/// |---|---|---|
/// | time limit per call | [`DEFAULT_CLIENT_TIMEOUT`] (30 s) | [`ClientBuilder::timeout`], per call [`Client::with_timeout`] |
/// | largest answer | [`DEFAULT_MAX_RESPONSE_SIZE`] (10 MiB) | [`ClientBuilder::max_response_size`] |
/// | headers on every request (a bearer token) | none | [`ClientBuilder::header`] |
/// | HTTP version | HTTP/1.1, connections kept alive and pooled | [`ClientBuilder::http2_prior_knowledge`] (h2c) |
/// | ids | sequential integers from 1 | |
///
/// Each call runs in a `tracing` span (`rpc_client_call`, with its method, id, duration and
/// outcome) at debug level.
///
/// Over a WebSocket (`ws://`, the `ws` feature), answers come in any order and are told apart
/// by their ids: a call's answer is the object with its id; a batch's is the array that
/// carries most of its ids. What carries no id of ours goes where it can only belong: an
/// error with a null id (the server could not read a frame) to the one call or batch waiting,
/// if one alone waits; an array whose entries carry no id at all to the one batch waiting.
/// Otherwise it is dropped (logged at debug level) and its caller meets the time limit.
///
/// Over HTTP/1.1, a server that answers before it has read the whole request (a 413 for a
/// body over its limit) is heard at once: the client stops writing, takes the answer, and
/// does not reuse that connection.
#[derive(Clone, Debug)]
pub struct Client {
    shared: Arc<Shared>,
    timeout: Option<Duration>,
}

#[derive(Debug)]
struct Shared {
    transport: Transport,
    /// The next call's id; over a WebSocket, shared with the peer handle of the client's
    /// methods, whose requests go the same way.
    next_id: Arc<AtomicU64>,
}

/// How requests travel. One per client, behind an `Arc`: its size does not matter.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Transport {
    Http(http::Transport),
    #[cfg(feature = "ws")]
    Ws(ws::Transport),
}

/// How many calls one WebSocket connection of the client carries at once by default: 64.
#[cfg(feature = "ws")]
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// How many failed attempts in a row the WebSocket client makes to reconnect, by default,
/// before it gives up: 10 (with a backoff from 50 ms, doubling, up to 5 s).
#[cfg(feature = "ws")]
pub const DEFAULT_MAX_RECONNECTS: u32 = 10;

impl Client {
    /// The same client with another time limit for its calls (`None`: none). The
    /// connections are shared.
    ///
    /// ```no_run
    /// # async fn f(client: rpc_hyper::Client) -> Result<(), rpc_hyper::client::Error> {
    /// use std::time::Duration;
    /// let quick = client.with_timeout(Duration::from_millis(200));
    /// let sum: i64 = quick.request("add", (2, 3)).await?;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn with_timeout(&self, timeout: impl Into<Option<Duration>>) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            timeout: timeout.into(),
        }
    }

    /// Calls `method` with `params` (a tuple or array by position, a struct or map by name,
    /// `()` for none) and decodes its result as `R`.
    pub async fn request<R: DeserializeOwned>(
        &self,
        method: &str,
        params: impl Serialize,
    ) -> Result<R, Error> {
        let id = self.next_id();
        let mut body = Vec::with_capacity(128);
        rpc_core::write_request(&mut body, method, &params, Some(id))
            .map_err(|err| Error::new(Kind::Params(err.to_string())))?;
        let trace = Trace::begin(method, Some(id));
        let outcome = self
            .exchange(Awaits::Answer(id), body)
            .await
            .and_then(|(status, answer)| decode_answer(status, &answer, id));
        trace.end(&outcome);
        outcome
    }

    /// Sends a typed call (`add::call(2, 3)`, generated beside `fn add`) and decodes its
    /// result as the method's result type.
    pub async fn call<P: Serialize, R: DeserializeOwned>(
        &self,
        call: TypedCall<P, R>,
    ) -> Result<R, Error> {
        self.request(call.method(), call.params()).await
    }

    /// Sends a notification: no answer is awaited (a server answers `204`, or `200` with an
    /// empty body; both are taken). Fails on transport errors and HTTP errors.
    pub async fn notify(&self, method: &str, params: impl Serialize) -> Result<(), Error> {
        let mut body = Vec::with_capacity(128);
        rpc_core::write_request(&mut body, method, &params, None)
            .map_err(|err| Error::new(Kind::Params(err.to_string())))?;
        let trace = Trace::begin(method, None);
        let outcome = self
            .exchange(Awaits::Nothing, body)
            .await
            .and_then(|(status, answer)| nothing_due(status, &answer));
        trace.end(&outcome);
        outcome
    }

    /// A batch to fill with calls and notifications, then send in one request.
    ///
    /// ```no_run
    /// # async fn f(client: rpc_hyper::Client) -> Result<(), rpc_hyper::client::Error> {
    /// let mut batch = client.batch();
    /// let sum = batch.request::<i64>("add", (2, 3))?;
    /// let quotient = batch.request::<f64>("divide", (1, 0))?;
    /// batch.notify("log", ("hello",))?;
    /// let replies = batch.send().await?;
    /// assert_eq!(replies.get(&sum)?, 5);
    /// assert!(replies.get(&quotient).unwrap_err().rpc().is_some()); // that entry alone failed
    /// # Ok(()) }
    /// ```
    pub fn batch(&self) -> Batch<'_> {
        Batch::new(self)
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.shared.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a body, within the time limit: the status (a WebSocket's is `200`) and the
    /// answer's bytes. Over a WebSocket, `awaits` says which answer belongs to the body.
    pub(crate) async fn exchange(
        &self,
        awaits: Awaits<'_>,
        body: Vec<u8>,
    ) -> Result<(StatusCode, bytes::Bytes), Error> {
        let exchange = async {
            match &self.shared.transport {
                Transport::Http(http) => http.post(body).await,
                #[cfg(feature = "ws")]
                Transport::Ws(ws) => match awaits {
                    Awaits::Answer(id) => ws.call(id, body).await,
                    Awaits::Batch(ids) => ws.batch(ids, body).await,
                    Awaits::Nothing => ws.send(body).map(|()| bytes::Bytes::new()),
                }
                .map(|frame| (StatusCode::OK, frame)),
            }
        };
        #[cfg(not(feature = "ws"))]
        let _ = awaits;
        within(self.timeout, exchange)
            .await
            .unwrap_or_else(|| Err(Error::new(Kind::Timeout)))
    }

    /// Opens a subscription over the WebSocket (`countdown::subscribe(5, 100)`, generated
    /// beside `#[rpc_subscription] fn countdown`): a stream of its items, decoded as the
    /// sink's item type. Dropping it unsubscribes. A lost connection ends it with an error
    /// item ([`Error::is_closed`]); the client reconnects by itself, and
    /// [`Client::connections`] says when, to subscribe again.
    #[cfg(feature = "ws")]
    pub async fn subscribe<P: Serialize, T: DeserializeOwned>(
        &self,
        subscription: rpc_core::TypedSubscription<P, T>,
    ) -> Result<Subscription<T>, Error> {
        let Transport::Ws(ws) = &self.shared.transport else {
            return Err(Error::transport(
                "subscriptions need a WebSocket: a ws:// URL",
            ));
        };
        let id = self.next_id();
        let mut body = Vec::with_capacity(128);
        rpc_core::write_request(
            &mut body,
            subscription.subscribe_method(),
            subscription.params(),
            Some(id),
        )
        .map_err(|err| Error::new(Kind::Params(err.to_string())))?;
        let trace = Trace::begin(subscription.subscribe_method(), Some(id));
        let exchange = ws.subscribe(id, body, subscription.unsubscribe_method());
        let (answer, routed) = within(self.timeout, exchange)
            .await
            .unwrap_or_else(|| (Err(Error::new(Kind::Timeout)), None));
        let outcome = answer.and_then(|frame| {
            let raw = single_answer(StatusCode::OK, &frame, id)?;
            let (items, ending) =
                routed.ok_or_else(|| Error::protocol("a subscription without an id"))?;
            Ok(Subscription::new(
                self.clone(),
                raw.get().into(),
                subscription.unsubscribe_method().to_owned(),
                items,
                ending,
            ))
        });
        trace.end(&outcome);
        outcome
    }

    /// The WebSocket client's connections so far: 1 once the first is made, one more for
    /// each reconnection. Wait for a change to subscribe again after a loss.
    ///
    /// ```no_run
    /// # async fn f(client: rpc_hyper::Client) {
    /// let mut connections = client.connections();
    /// while connections.changed().await.is_ok() {
    ///     // connected (again): subscribe to what was lost
    /// }
    /// # }
    /// ```
    #[cfg(feature = "ws")]
    pub fn connections(&self) -> tokio::sync::watch::Receiver<u64> {
        match &self.shared.transport {
            Transport::Ws(ws) => ws.connections(),
            Transport::Http(_) => tokio::sync::watch::Sender::new(0).subscribe(),
        }
    }

    #[cfg(feature = "ws")]
    pub(crate) fn ws(&self) -> Option<&ws::Transport> {
        match &self.shared.transport {
            Transport::Ws(ws) => Some(ws),
            Transport::Http(_) => None,
        }
    }
}

/// Which answer a body awaits: over a WebSocket, answers are told apart by their ids (over
/// HTTP, the answer is the response's body).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "ws"), allow(dead_code))]
pub(crate) enum Awaits<'a> {
    /// A notification, or a batch of them: none.
    Nothing,
    /// The call with this id.
    Answer(u64),
    /// A batch of these calls (ids ascending): an array.
    Batch(&'a [u64]),
}
