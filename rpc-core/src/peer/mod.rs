//! The peer: the other side of a connection, which a method can call back.
//!
//! JSON-RPC 2.0 is symmetric: over a connection that stays open (a WebSocket, stdio, a Unix
//! socket, TCP), either side may send requests and notifications. A method that takes a
//! [`Peer`] parameter can ask the side that called it something and await the answer, or tell
//! it something: a language server asking the editor for its configuration, an MCP server
//! asking its client for a completion.
//!
//! ## Ids
//! Each direction has its own id space. The requests a peer handle sends carry ids it counts
//! itself (1, 2, 3, …, numbers); the other side's requests carry the ids it chose. The two
//! never mix up, since a message says which it is: a request has a `method`, an answer has a
//! `result` or an `error` and no `method`. An answer is matched only against the requests this
//! side sent, and this side's answers carry the other side's ids, unchanged.
//!
//! ## Bounds
//! - At most [`PeerSettings::max_requests_in_flight`] requests await their answers at once;
//!   one more waits for room (it does not fail).
//! - Each request has a time limit ([`PeerSettings::request_timeout`], or its own with
//!   [`Outgoing::timeout`]).
//! - What is sent waits for room in the connection's [`Outbox`], within its bounds.
//! - When the connection closes, every request awaiting an answer fails at once with
//!   [`PeerError::Closed`], and so does every later one.

mod calls;
mod error;
mod send;

use std::borrow::Cow;
use std::fmt;
use std::future::{poll_fn, Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::boxed::BoxFuture;
pub(crate) use crate::request::Answer;
use crate::subscription::Outbox;
use crate::Dialect;
use calls::Calls;
pub use error::PeerError;
use send::{encode, set_id, within, Forgotten};

/// How long a request to the peer waits for its answer by default: 30 s.
pub const DEFAULT_PEER_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How many requests to the peer may await their answers at once by default: 64.
pub const DEFAULT_MAX_PEER_REQUESTS: usize = 64;

/// A timer: a future that completes after the duration. `rpc-core` has no runtime; the
/// transport that makes the peer gives its own (`rpc-hyper`: tokio's).
pub type Timer = fn(Duration) -> BoxFuture<'static, ()>;

/// The bounds of a [`Peer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerSettings {
    /// How long a request waits for its answer; `None` for ever.
    pub request_timeout: Option<Duration>,
    /// How many requests may await their answers at once (at least 1).
    pub max_requests_in_flight: usize,
    /// The protocol's conventions, if it has them: a request given up on (dropped, or timed
    /// out) is then cancelled by its cancel notification, and methods may report progress.
    pub dialect: Option<Dialect>,
}

impl Default for PeerSettings {
    fn default() -> Self {
        Self {
            request_timeout: Some(DEFAULT_PEER_REQUEST_TIMEOUT),
            max_requests_in_flight: DEFAULT_MAX_PEER_REQUESTS,
            dialect: None,
        }
    }
}

impl PeerSettings {
    /// Sets [`request_timeout`](field@PeerSettings::request_timeout).
    #[must_use]
    pub fn request_timeout(mut self, limit: Option<Duration>) -> Self {
        self.request_timeout = limit;
        self
    }

    /// Sets [`dialect`](field@PeerSettings::dialect).
    #[must_use]
    pub fn dialect(mut self, dialect: Option<Dialect>) -> Self {
        self.dialect = dialect;
        self
    }

    /// Sets [`max_requests_in_flight`](field@PeerSettings::max_requests_in_flight).
    #[must_use]
    pub fn max_requests_in_flight(mut self, requests: usize) -> Self {
        self.max_requests_in_flight = requests.max(1);
        self
    }
}

/// The other side of a connection: send it requests and notifications.
///
/// A method gets it by taking a `Peer` parameter (with `#[rpc_method]`), or from its context
/// ([`Context::peer_handle`](crate::Context::peer_handle)). It is cheap to clone, and a clone
/// may outlive the call (moved into a task of its own): once the connection has closed, what
/// it sends fails with [`PeerError::Closed`].
///
/// Over plain HTTP there is no way back: a method that takes a `Peer` is answered with error
/// [`ErrorCode::NEEDS_CONNECTION`](crate::ErrorCode::NEEDS_CONNECTION) there.
///
/// ```
/// use rpc_core::{rpc_method, ErrorObject, Peer};
///
/// /// Greets the caller by the name the caller gives when asked.
/// #[rpc_method]
/// async fn greet(peer: Peer) -> Result<String, ErrorObject> {
///     let name: String = peer.request("whoareyou", ()).await?;
///     peer.notify("greeted", [&name]).await?;
///     Ok(format!("hello, {name}"))
/// }
/// # let _ = greet::method::<()>();
/// ```
#[derive(Clone)]
pub struct Peer(Arc<Shared>);

struct Shared {
    outbox: Outbox,
    settings: PeerSettings,
    timer: Timer,
    calls: Calls,
}

impl Peer {
    /// A peer that sends through `outbox`, the connection's, with these bounds and `timer`. For
    /// transports: the transport writes out what the outbox holds, hands the answers it reads
    /// to the router with this peer in the calls' context, and calls [`Peer::close`] when the
    /// connection ends.
    pub fn new(outbox: Outbox, settings: PeerSettings, timer: Timer) -> Self {
        Self::with_ids(outbox, settings, timer, Arc::new(AtomicU64::new(1)))
    }

    /// [`Peer::new`], taking its requests' ids from `ids` (each takes the value there and adds
    /// one): for a connection where another sender's requests go the same way (a client's
    /// own calls), so that the two never give the same id.
    pub fn with_ids(
        outbox: Outbox,
        settings: PeerSettings,
        timer: Timer,
        ids: Arc<AtomicU64>,
    ) -> Self {
        Self(Arc::new(Shared {
            outbox,
            settings,
            timer,
            calls: Calls::new(ids),
        }))
    }

    /// Its bounds.
    pub fn settings(&self) -> &PeerSettings {
        &self.0.settings
    }

    /// The outbox it sends through.
    pub fn outbox(&self) -> &Outbox {
        &self.0.outbox
    }

    /// Sends a request and awaits its answer, decoded as `R`: `params` serialize as the
    /// request's params (`()` or `None` for none, a tuple or an array by position, a struct
    /// or a map by name). The future may be given its own time limit
    /// ([`Outgoing::timeout`]).
    ///
    /// Dropping the future before the answer forgets the request: a late answer is dropped.
    pub fn request<R, P>(
        &self,
        method: impl Into<Cow<'static, str>>,
        params: P,
    ) -> Outgoing<'_, P, R>
    where
        R: DeserializeOwned,
        P: Serialize,
    {
        Outgoing {
            peer: self,
            method: method.into(),
            params,
            timeout: self.0.settings.request_timeout,
            result: PhantomData,
        }
    }

    /// Sends a typed call, such as the stub `#[rpc_method]` generates beside each method
    /// (`add::call(2, 3)`): the same declaration serves a client and a peer.
    #[cfg(feature = "client")]
    pub fn call<P, R>(&self, call: crate::TypedCall<P, R>) -> Outgoing<'_, P, R>
    where
        R: DeserializeOwned,
        P: Serialize,
    {
        let (method, params) = call.into_parts();
        self.request(method, params)
    }

    /// Sends a notification, once the outbox has room.
    pub async fn notify<P: Serialize>(
        &self,
        method: impl Into<Cow<'static, str>>,
        params: P,
    ) -> Result<(), PeerError> {
        let mut message = Some(encode(&method.into(), &params, None)?);
        poll_fn(|task| self.0.outbox.poll_send(&mut message, task))
            .await
            .map_err(PeerError::from_send)
    }

    /// Sends a notification if the outbox has room now, for a sync method; a full outbox is
    /// [`PeerError::Full`].
    pub fn try_notify<P: Serialize>(
        &self,
        method: impl Into<Cow<'static, str>>,
        params: P,
    ) -> Result<(), PeerError> {
        let message = encode(&method.into(), &params, None)?;
        self.0
            .outbox
            .try_send_message(message)
            .map_err(PeerError::from_send)
    }

    /// How many requests await their answers.
    pub fn requests_in_flight(&self) -> usize {
        self.0.calls.unanswered()
    }

    /// Ready once no request awaits its answer; until then `task` is woken when none does.
    /// For a transport that drains the connection: the answers to what was asked still come.
    /// One task at a time (the connection's): a second task's waker replaces the first's.
    pub fn poll_all_answered(&self, task: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.0.calls.poll_idle(task)
    }

    /// Ends the peer: every request awaiting its answer fails with [`PeerError::Closed`], and
    /// so does every later one. The transport calls it when the connection ends.
    pub fn close(&self) {
        self.0.calls.close();
    }

    /// Hands an answer the connection read to the request it answers; one that answers nothing
    /// awaited is logged and dropped.
    pub(crate) fn deliver(&self, id: &crate::Id<'_>, answer: Answer<'_>) {
        self.0.calls.deliver(id, answer);
    }

    async fn exchange<P: Serialize, R: DeserializeOwned>(
        &self,
        method: Cow<'static, str>,
        params: P,
        timeout: Option<Duration>,
    ) -> Result<R, PeerError> {
        // Encoded before it takes a place: a request that cannot be sent waits for nothing.
        let mut message = encode(&method, &params, Some(0))?;
        // The time limit runs from here: waiting for a place and for room counts too.
        let mut deadline = timeout.map(|limit| (limit, (self.0.timer)(limit)));
        let admit = poll_fn(|task| {
            self.0
                .calls
                .poll_admit(self.0.settings.max_requests_in_flight, task)
        });
        let slot = within(&mut deadline, admit).await?;
        let outstanding = calls::Outstanding::new(&self.0.calls, slot);
        // Given up on before its answer (dropped, timed out): the other side is told.
        let mut forgotten = Forgotten {
            peer: self,
            id: slot,
            armed: false,
        };
        set_id(&mut message, slot);
        let limit = self.0.outbox.limits().max_message_len;
        if message.len() > limit {
            return Err(PeerError::TooLarge {
                len: message.len(),
                limit,
            });
        }
        let mut message = Some(message);
        let sent = poll_fn(|task| {
            self.0
                .outbox
                .poll_send(&mut message, task)
                .map(|sent| sent.map_err(PeerError::from_send))
        });
        within(&mut deadline, sent).await?;
        forgotten.armed = true;
        let answer = poll_fn(|task| outstanding.poll_answer(task));
        let text = within(&mut deadline, answer).await;
        // Answered, or the connection closed: nothing to tell.
        forgotten.armed = matches!(text, Err(PeerError::TimedOut(_)));
        drop(forgotten);
        let text = text?;
        serde_json::from_str(&text).map_err(|err| PeerError::Decode(err.to_string()))
    }
}

impl fmt::Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peer")
            .field("settings", &self.0.settings)
            .field("requests_in_flight", &self.requests_in_flight())
            .finish_non_exhaustive()
    }
}

/// A request to the peer, not yet sent: await it to send it and get its answer. From
/// [`Peer::request`] and [`Peer::call`].
#[must_use = "a request is sent when awaited"]
pub struct Outgoing<'p, P, R> {
    peer: &'p Peer,
    method: Cow<'static, str>,
    params: P,
    timeout: Option<Duration>,
    result: PhantomData<fn() -> R>,
}

impl<P, R> Outgoing<'_, P, R> {
    /// Sets this request's time limit, in place of the peer's default; `None` for none.
    pub fn timeout(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.timeout = limit.into();
        self
    }
}

impl<'p, P, R> IntoFuture for Outgoing<'p, P, R>
where
    P: Serialize + Send + 'p,
    R: DeserializeOwned + Send + 'p,
{
    type Output = Result<R, PeerError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<R, PeerError>> + Send + 'p>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.peer.exchange(self.method, self.params, self.timeout))
    }
}

impl<P, R> fmt::Debug for Outgoing<'_, P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outgoing")
            .field("method", &self.method)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
