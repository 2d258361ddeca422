//! Serving a router over byte streams: the server's settings, which every kind shares, and
//! one stream of yours to its end or to the graceful shutdown. Stdio is in `stdio`, the
//! listeners in `listen`.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::time::Duration;

use rpc_core::{ConnectionId, Context, Router};
use tokio::io::{AsyncRead, AsyncWrite};

use super::transport::Framed;
use super::Framing;
use crate::control::{Connections, Control, CLOSE, DRAIN};
use crate::engine::{self, Liveness};

/// A byte-stream server about to run: configure it, then `.await` it.
///
/// Made by [`serve`] (a stream of yours), [`stdio`](super::stdio), [`serve_tcp`](super::serve_tcp)
/// or [`serve_ipc`](super::serve_ipc); `K` says which ([`Io`], [`Stdio`](super::Stdio),
/// [`Listener`](super::Listener)). Awaited, it runs until its stream ends (or, for a
/// listener, until the graceful shutdown signal) and returns `Ok(())`; a listener's error that
/// is not about one connection is an `Err`.
#[must_use = "a server does nothing until awaited"]
pub struct StreamServer<K, S> {
    pub(super) kind: K,
    pub(super) router: Arc<Router<S>>,
    pub(super) settings: Settings,
    pub(super) signal: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

#[derive(Clone, Debug)]
#[cfg_attr(
    not(any(feature = "tcp", all(feature = "ipc", unix))),
    allow(dead_code)
)]
pub(super) struct Settings {
    framing: Framing,
    /// Whether a closing connection reads what its peer still sends (not stdin).
    pub(super) linger: bool,
    pub(super) engine: engine::Config,
    drain_timeout: Duration,
    pub(super) max_connections: usize,
}

#[cfg_attr(
    not(any(feature = "tcp", all(feature = "ipc", unix))),
    allow(dead_code)
)]
impl Settings {
    pub(super) fn drain_timeout(&self) -> Duration {
        self.drain_timeout
    }

    pub(super) fn max_connections(&self) -> usize {
        self.max_connections
    }
}

/// One stream of yours, as its reading and writing halves: see [`serve`].
#[derive(Debug)]
pub struct Io<R, W> {
    pub(super) read: R,
    pub(super) write: W,
}

/// Serves `router` on one byte stream, read from `read` and answered on `write`, until `read`
/// ends; newline-delimited unless [`StreamServer::framing`] says otherwise. For a stream that
/// is one object (a `TcpStream`, a `DuplexStream`), [`serve_io`].
///
/// ```
/// use rpc_core::{rpc_method, Router};
/// use std::future::IntoFuture;
/// use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
///
/// /// Adds two integers.
/// #[rpc_method]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut router = Router::new();
/// router.register(add::method())?;
/// let (client, server) = tokio::io::duplex(4096);
/// let (read, write) = tokio::io::split(server);
/// let server = tokio::spawn(rpc_hyper::stream::serve(read, write, router).into_future());
///
/// let (read, mut write) = tokio::io::split(client);
/// write.write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[2,3],\"id\":1}\n").await?;
/// let mut answer = String::new();
/// BufReader::new(read).read_line(&mut answer).await?;
/// assert_eq!(answer, "{\"jsonrpc\":\"2.0\",\"result\":5,\"id\":1}\n");
///
/// drop(write); // the end of the input: the server returns
/// server.await??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub fn serve<R, W, S>(
    read: R,
    write: W,
    router: impl Into<Arc<Router<S>>>,
) -> StreamServer<Io<R, W>, S>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
    S: Send + Sync + 'static,
{
    StreamServer::new(
        Io { read, write },
        router,
        Framing::Newline,
        Liveness::Forever,
    )
}

/// [`serve`] for a stream that is one object, reading and writing (a `TcpStream`, a TLS
/// stream, a `DuplexStream`): it is split in two halves (`tokio::io::split`).
pub fn serve_io<T, S>(
    io: T,
    router: impl Into<Arc<Router<S>>>,
) -> StreamServer<Io<tokio::io::ReadHalf<T>, tokio::io::WriteHalf<T>>, S>
where
    T: AsyncRead + AsyncWrite + Send + 'static,
    S: Send + Sync + 'static,
{
    let (read, write) = tokio::io::split(io);
    serve(read, write, router)
}

impl<K, S: Send + Sync + 'static> StreamServer<K, S> {
    pub(super) fn new(
        kind: K,
        router: impl Into<Arc<Router<S>>>,
        framing: Framing,
        liveness: Liveness,
    ) -> Self {
        Self {
            kind,
            router: router.into(),
            settings: Settings {
                framing,
                linger: true,
                engine: engine::Config::new(liveness),
                drain_timeout: crate::DEFAULT_DRAIN_TIMEOUT,
                max_connections: crate::DEFAULT_MAX_CONNECTIONS,
            },
            signal: None,
        }
    }

    /// Sets how messages are delimited (see [`Framing`]).
    pub fn framing(mut self, framing: Framing) -> Self {
        self.settings.framing = framing;
        self
    }

    /// Sets the largest message taken or sent
    /// ([`DEFAULT_MAX_BODY_SIZE`](crate::DEFAULT_MAX_BODY_SIZE) by default): a call whose
    /// result is larger is answered with error -32008 "Result too large" instead.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.settings.engine.max_message_size = bytes;
        self
    }

    /// Sets how many calls of one connection may run at once
    /// ([`DEFAULT_MAX_CALLS_IN_FLIGHT`](crate::DEFAULT_MAX_CALLS_IN_FLIGHT) by default, at
    /// least 1). Past it, the connection is not read until answers have gone out.
    pub fn max_calls_in_flight(mut self, calls: usize) -> Self {
        self.settings.engine.max_calls_in_flight = calls.max(1);
        self
    }

    /// Sets how long one message's calls may take
    /// ([`DEFAULT_REQUEST_TIMEOUT`](crate::DEFAULT_REQUEST_TIMEOUT) by default); past it, each
    /// call gets error [`TIMEOUT_ERROR_CODE`](crate::TIMEOUT_ERROR_CODE). `None` sets no limit.
    pub fn request_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.engine.request_timeout = timeout.into();
        self
    }

    /// Sets the longest a write to the peer may take
    /// ([`DEFAULT_SEND_TIMEOUT`](crate::DEFAULT_SEND_TIMEOUT) by default). A peer that takes
    /// nothing for that long (it stopped reading) is disconnected, and every other goes on.
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.settings.engine.send_timeout = timeout;
        self
    }

    /// Sets how many subscriptions one connection may hold at once
    /// ([`rpc_core::DEFAULT_MAX_SUBSCRIPTIONS`] by default); one more is answered with error
    /// -32010 "Too many subscriptions".
    pub fn max_subscriptions(mut self, subscriptions: usize) -> Self {
        let engine = &mut self.settings.engine;
        engine.outbox = engine.outbox.max_subscriptions(subscriptions);
        self
    }

    /// Sets how many notifications, and how many bytes of them, one connection's queue holds
    /// before its subscriptions wait to send ([`rpc_core::DEFAULT_MAX_QUEUED`] and
    /// [`rpc_core::DEFAULT_MAX_QUEUED_BYTES`] by default).
    pub fn max_queued(mut self, notifications: usize, bytes: usize) -> Self {
        let engine = &mut self.settings.engine;
        engine.outbox = engine.outbox.max_queued(notifications, bytes);
        self
    }

    /// Sets how long a connection may be idle (no call in flight, no subscription, nothing
    /// read) before it is closed: 60 s for a listener's connections, never (`None`) for stdio
    /// and a stream of yours, by default. It is closed between 1 and 1¼ times the timeout
    /// after it fell idle.
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.engine.liveness = match timeout.into() {
            Some(timeout) => Liveness::Idle(timeout),
            None => Liveness::Forever,
        };
        self
    }

    /// Sets how long graceful shutdown waits for the calls in flight
    /// ([`DEFAULT_DRAIN_TIMEOUT`](crate::DEFAULT_DRAIN_TIMEOUT) by default) before closing what
    /// is left; and how long, once the other side has closed its input (stdin's end), they may
    /// take before the connection ends anyway.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.settings.drain_timeout = timeout;
        self.settings.engine.eof_drain = timeout;
        self
    }

    /// Stops the server when `signal` completes: a listener stops accepting; every connection
    /// answers its calls in flight (within the drain timeout), reads nothing more, and closes.
    pub fn with_graceful_shutdown<F>(mut self, signal: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.signal = Some(Box::pin(signal));
        self
    }
}

impl<K: fmt::Debug, S> fmt::Debug for StreamServer<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamServer")
            .field("kind", &self.kind)
            .field("settings", &self.settings)
            .field("graceful_shutdown", &self.signal.is_some())
            .finish_non_exhaustive()
    }
}

impl<R, W, S> IntoFuture for StreamServer<Io<R, W>, S>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
    S: Send + Sync + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(serve_one(self, None))
    }
}

/// Serves one stream to its end, or to the shutdown signal and the drain, as `server` says;
/// with `own`, the connection's peer is that one (a client's).
pub(super) async fn serve_one<R, W, S>(
    server: StreamServer<Io<R, W>, S>,
    own: Option<rpc_core::Peer>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
    S: Send + Sync + 'static,
{
    let StreamServer {
        kind: Io { read, write },
        router,
        settings,
        signal,
    } = server;
    let cx = Context::new().with_connection(ConnectionId::next());
    let Some(signal) = signal else {
        run_framed(read, write, &router, cx, &settings, None, own).await;
        return Ok(());
    };
    // The signals reach the connection as a listener's would: through its control.
    let connections = Arc::new(Connections::new(Duration::MAX, Duration::MAX, usize::MAX));
    let control = connections.track();
    let mut running = pin!(run_framed(
        read,
        write,
        &router,
        cx,
        &settings,
        Some(control),
        own
    ));
    tokio::select! {
        () = &mut running => return Ok(()),
        () = signal => connections.signal_all(DRAIN),
    }
    if tokio::time::timeout(settings.drain_timeout, &mut running)
        .await
        .is_err()
    {
        tracing::warn!("drain timed out; closing the stream");
        connections.signal_all(CLOSE);
        running.await;
    }
    Ok(())
}

/// Runs the engine on one framed stream.
pub(super) async fn run_framed<R, W, S>(
    read: R,
    write: W,
    router: &Router<S>,
    cx: Context<'_>,
    settings: &Settings,
    control: Option<Arc<Control>>,
    own: Option<rpc_core::Peer>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
    S: Send + Sync + 'static,
{
    let max = settings.engine.max_message_size;
    let transport = Framed::new(read, write, settings.framing, max, settings.linger);
    let cx = cx.with_max_result_len(max);
    engine::run(transport, router, cx, &settings.engine, control, own).await;
}
