//! Where a call comes from: what its transport knows of it, and the values that layers in
//! front of the router put there.

use std::any::Any;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::subscription::Outbox;
use crate::{Cancellation, Peer};

pub use http::{Extensions, HeaderMap, Version};

/// What a call knows about where it came from, filled by the transport.
///
/// Every call of a request (each call of a batch alike) is handled with the same context. A
/// method reads it through [`Ext`] parameters (with `#[rpc_method]`), or takes it whole (a
/// hand-built method from [`Method::new_sync_with`](crate::Method::new_sync_with)).
///
/// It holds, each only when the transport sets it:
///
/// | value | type, as [`Context::get`] and [`Ext`] find it | set by `rpc-hyper` |
/// |---|---|---|
/// | typed extensions | any `Send + Sync + 'static` type | the HTTP request's own `http::Extensions`: what a tower layer in front inserted (an authenticated user, axum's `ConnectInfo`) |
/// | request headers | [`HeaderMap`] | the HTTP request's headers |
/// | protocol version | [`Version`] | the HTTP version |
/// | the peer's address | [`PeerAddr`] | the TCP peer, when served by `rpc_hyper::serve` |
/// | the connection | [`ConnectionId`] | unique per connection, when served by `rpc_hyper::serve`, over a WebSocket or a byte stream |
/// | the peer's credentials | [`PeerCred`], an extension | a Unix-socket connection (`rpc_hyper::stream::serve_ipc`) |
///
/// A context borrows what it holds: the transport builds it once per request (or once per
/// connection), and nothing is copied per call.
///
/// ```
/// use rpc_core::{Context, Extensions, PeerAddr, Router};
///
/// #[derive(Clone)]
/// struct User(String);
///
/// let mut extensions = Extensions::new();
/// extensions.insert(User("ada".into()));
/// let peer = PeerAddr("127.0.0.1:4000".parse().unwrap());
/// let cx = Context::new().with_extensions(&extensions).with_peer(peer);
///
/// assert_eq!(cx.get::<User>().map(|user| user.0.as_str()), Some("ada"));
/// assert_eq!(cx.get::<PeerAddr>(), Some(&peer));
/// assert!(cx.get::<u64>().is_none());
/// ```
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    extensions: Option<&'a Extensions>,
    headers: Option<&'a HeaderMap>,
    version: Option<Version>,
    peer: Option<PeerAddr>,
    connection: Option<ConnectionId>,
    max_result_len: usize,
    outbox: Option<&'a Outbox>,
    peer_handle: Option<&'a Peer>,
    cancellation: Option<&'a Cancellation>,
    enclosing: Option<&'a str>,
}

/// The context of a call that came with none: nothing in it.
pub(crate) static EMPTY: Context<'static> = Context::new();

impl<'a> Context<'a> {
    /// A context with nothing in it.
    pub const fn new() -> Self {
        Self {
            extensions: None,
            headers: None,
            version: None,
            peer: None,
            connection: None,
            max_result_len: usize::MAX,
            outbox: None,
            peer_handle: None,
            cancellation: None,
            enclosing: None,
        }
    }

    /// Sets the connection's [`Outbox`]: the transport can push, and subscription methods
    /// start (without one they answer error
    /// [`ErrorCode::SUBSCRIPTION_NEEDS_WEBSOCKET`](crate::ErrorCode::SUBSCRIPTION_NEEDS_WEBSOCKET)).
    /// The transport drives the subscriptions started:
    /// see [`Router::handle_push`](crate::Router::handle_push).
    #[must_use]
    pub fn with_outbox(mut self, outbox: &'a Outbox) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// The connection's outbox, if the transport can push.
    pub fn outbox(&self) -> Option<&'a Outbox> {
        self.outbox
    }

    /// Sets the connection's [`Peer`]: its calls can call the other side back, and the
    /// answers the connection reads go to the peer's requests.
    #[must_use]
    pub fn with_peer_handle(mut self, peer: &'a Peer) -> Self {
        self.peer_handle = Some(peer);
        self
    }

    /// Sets the connection's [`Cancellation`]: its caller may cancel the calls it sent, in
    /// the cancellation's style.
    #[must_use]
    pub fn with_cancellation(mut self, cancellation: &'a Cancellation) -> Self {
        self.cancellation = Some(cancellation);
        self
    }

    /// The connection's [`Cancellation`], if its caller may cancel.
    pub fn cancellation(&self) -> Option<&'a Cancellation> {
        self.cancellation
    }

    /// The connection's [`Peer`], if the transport has a way back to the caller.
    pub fn peer_handle(&self) -> Option<&'a Peer> {
        self.peer_handle
    }

    /// Sets the largest result, as JSON, that a call may answer with: a larger one is answered
    /// with error [`ErrorCode::RESULT_TOO_LARGE`](crate::ErrorCode::RESULT_TOO_LARGE) (-32008,
    /// the limit as `data`). The transport sets its message limit here (`rpc-hyper`: the body
    /// size limit), bounding what it sends as what it takes. No limit by default.
    #[must_use]
    pub fn with_max_result_len(mut self, bytes: usize) -> Self {
        self.max_result_len = bytes;
        self
    }

    /// Sets the params of the request the call serves, when its own are a part of them: an MCP
    /// tool runs on `tools/call`'s `arguments`, beside the request's `_meta` (the progress
    /// token an `Option<Progress>` reads, the protocol version) and `inputResponses`: their JSON
    /// text, an object.
    #[must_use]
    pub fn with_enclosing_params(mut self, params: &'a str) -> Self {
        self.enclosing = Some(params);
        self
    }

    /// The params of the request the call serves, if its own params are only a part of them.
    pub fn enclosing_params(&self) -> Option<&'a str> {
        self.enclosing
    }

    /// The largest result a call may answer with.
    pub fn max_result_len(&self) -> usize {
        self.max_result_len
    }

    /// Sets the typed extensions.
    #[must_use]
    pub fn with_extensions(mut self, extensions: &'a Extensions) -> Self {
        self.extensions = Some(extensions);
        self
    }

    /// Sets the request's headers.
    #[must_use]
    pub fn with_headers(mut self, headers: &'a HeaderMap) -> Self {
        self.headers = Some(headers);
        self
    }

    /// Sets the protocol version.
    #[must_use]
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = Some(version);
        self
    }

    /// Sets the peer's address.
    #[must_use]
    pub fn with_peer(mut self, peer: PeerAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// Sets the connection the call came on.
    #[must_use]
    pub fn with_connection(mut self, connection: ConnectionId) -> Self {
        self.connection = Some(connection);
        self
    }

    /// The value of type `T`: the transport's own ([`HeaderMap`], [`Version`], [`PeerAddr`],
    /// [`ConnectionId`]) or an extension.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        // The type tests are decided at compile time, for each `T`.
        let own: Option<&dyn Any> = if is::<T, HeaderMap>() {
            self.headers.map(|headers| headers as &dyn Any)
        } else if is::<T, Version>() {
            self.version.as_ref().map(|version| version as &dyn Any)
        } else if is::<T, PeerAddr>() {
            self.peer.as_ref().map(|peer| peer as &dyn Any)
        } else if is::<T, ConnectionId>() {
            self.connection.as_ref().map(|id| id as &dyn Any)
        } else {
            return self.extensions?.get::<T>();
        };
        own?.downcast_ref()
    }

    /// The typed extensions, if the transport set them.
    pub fn extensions(&self) -> Option<&'a Extensions> {
        self.extensions
    }

    /// The request's headers, if the transport set them.
    pub fn headers(&self) -> Option<&'a HeaderMap> {
        self.headers
    }

    /// The protocol version, if the transport set it.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// The peer's address, if the transport knows it.
    pub fn peer(&self) -> Option<PeerAddr> {
        self.peer
    }

    /// The connection the call came on, if the transport has connections.
    pub fn connection(&self) -> Option<ConnectionId> {
        self.connection
    }
}

fn is<T: 'static, U: 'static>() -> bool {
    std::any::TypeId::of::<T>() == std::any::TypeId::of::<U>()
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("extensions", &self.extensions.map(Extensions::len))
            .field("headers", &self.headers.map(HeaderMap::len))
            .field("version", &self.version)
            .field("peer", &self.peer)
            .field("connection", &self.connection)
            .field("max_result_len", &self.max_result_len)
            .field("outbox", &self.outbox.is_some())
            .field("peer_handle", &self.peer_handle.is_some())
            .field(
                "cancellation",
                &self.cancellation.map(Cancellation::dialect),
            )
            .field("enclosing_params", &self.enclosing.is_some())
            .finish()
    }
}

/// The address of the peer a call came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The credentials of the process at the other end of a Unix socket, as the kernel gives
/// them when it connects (`SO_PEERCRED` on Linux, `getpeereid` elsewhere).
///
/// `rpc-hyper`'s Unix-socket listener puts them in the extensions of every call of the
/// connection, so a method reads them as `Ext<'_, PeerCred>`, the way an HTTP method reads
/// [`PeerAddr`]:
///
/// ```
/// use rpc_core::{rpc_method, Ext, PeerCred};
///
/// /// Whether the caller runs as root.
/// #[rpc_method]
/// fn is_root(peer: Ext<'_, PeerCred>) -> bool {
///     peer.uid == 0
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PeerCred {
    /// The peer's user id.
    pub uid: u32,
    /// The peer's group id.
    pub gid: u32,
    /// The peer's process id, where the platform tells it.
    pub pid: Option<i32>,
}

impl PeerCred {
    /// Credentials with these ids.
    pub fn new(uid: u32, gid: u32, pid: Option<i32>) -> Self {
        Self { uid, gid, pid }
    }
}

/// Which connection a call came on: unique among the connections of one process.
///
/// A transport with connections (`rpc_hyper::serve`, a WebSocket) gives each a new one; calls
/// with the same id came on the same connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(u64);

impl ConnectionId {
    /// A new id, never handed out before in this process.
    pub fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A value from the call's [`Context`], as a parameter of a method under `#[rpc_method]`.
///
/// `Ext<'_, T>` is what axum's `Extension<T>` is, without the clone: a reference to the
/// value of type `T` in the context (an extension a layer inserted, or one of the transport's
/// own values: [`HeaderMap`], [`Version`], [`PeerAddr`], [`ConnectionId`]). It is not a wire
/// parameter.
///
/// - `Ext<'_, T>` is required: when the context has no `T`, the call is answered with -32603
///   "Internal error" and the log says which type was missing (a server misconfiguration,
///   not the caller's fault; the caller never sees the type's name).
/// - `Option<Ext<'_, T>>` is `None` when it is absent.
///
/// ```
/// use rpc_core::{rpc_method, Ext, HeaderMap, PeerAddr};
///
/// #[derive(Clone)]
/// struct User(String);
///
/// /// Greets the caller an authentication layer let in.
/// #[rpc_method]
/// fn whoami(user: Ext<'_, User>, peer: Option<Ext<'_, PeerAddr>>) -> String {
///     match peer {
///         Some(peer) => format!("{} from {}", user.0, *peer),
///         None => user.0.clone(),
///     }
/// }
///
/// /// Reads a header.
/// #[rpc_method]
/// fn request_id(headers: Ext<'_, HeaderMap>) -> Option<String> {
///     let id = headers.get("x-request-id")?;
///     id.to_str().ok().map(str::to_owned)
/// }
/// ```
pub struct Ext<'a, T>(&'a T);

impl<'a, T> Ext<'a, T> {
    /// Wraps a reference to the value.
    pub fn new(value: &'a T) -> Self {
        Self(value)
    }

    /// The reference, for as long as the context is borrowed (`Deref` gives a shorter one).
    /// An associated function, not a method, so that it hides no method of `T`'s: write
    /// `Ext::into_ref(headers)`, while `headers.get("x-request-id")` is `HeaderMap::get`.
    pub fn into_ref(this: Self) -> &'a T {
        this.0
    }
}

impl<T> Deref for Ext<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0
    }
}

impl<T> Clone for Ext<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ext<'_, T> {}

impl<T: fmt::Debug> fmt::Debug for Ext<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Ext").field(self.0).finish()
    }
}
