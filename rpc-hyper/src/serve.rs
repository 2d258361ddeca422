//! The server: accepting connections, their limits and timeouts, and graceful shutdown.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::RpcService;

/// How long a client may take to send a request's headers by default: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How many connections are served at once by default: 4,096.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4_096;

/// How long a connection may sit idle, no request in flight, by default: 60 s.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long graceful shutdown waits for in-flight requests by default: 30 s.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

type BoxError = Box<dyn StdError + Send + Sync>;

/// The listen backlog [`bind`] asks for: 4,096 (the kernel caps it at `net.core.somaxconn`).
pub const DEFAULT_BACKLOG: u32 = 4_096;

/// Binds a listener suited to [`serve`]: `SO_REUSEADDR` (a restarted server can bind at
/// once) and a listen backlog of [`DEFAULT_BACKLOG`].
///
/// The backlog is where connections wait while the server is at its connection limit, or
/// busy accepting a burst; tokio's `TcpListener::bind` asks for 1,024, which a burst of a
/// thousand clients overflows (their connections are then dropped or reset by the kernel).
///
/// # Errors
/// When the address cannot be bound.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(DEFAULT_BACKLOG)
}

/// Serves a JSON-RPC router (or an [`RpcService`]) on `listener`: HTTP/1.1 and HTTP/2
/// (cleartext, prior knowledge) on the same port.
///
/// Await it to run the server; add [`Serve::with_graceful_shutdown`] to stop it.
///
/// ```no_run
/// use rpc_core::{rpc_method, Router};
///
/// /// Adds two integers.
/// #[rpc_method]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// # async {
/// let mut router = Router::new();
/// router.register(add::method())?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// rpc_hyper::serve(listener, router).await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # };
/// ```
pub fn serve<S: Send + Sync + 'static>(
    listener: TcpListener,
    rpc: impl Into<RpcService<S>>,
) -> Serve<RpcService<S>> {
    serve_service(listener, rpc.into())
}

/// Serves any HTTP service on `listener`: an axum `Router` with an [`RpcService`] mounted in
/// it, an [`RpcService`] wrapped in tower layers, and so on. The service is cloned for each
/// connection.
pub fn serve_service<T>(listener: TcpListener, service: T) -> Serve<T> {
    Serve {
        listener,
        service,
        config: ServerConfig::default(),
    }
}

/// A server about to run: configure it, then `.await` it. See [`serve`].
#[must_use = "a server does nothing until awaited"]
pub struct Serve<T> {
    listener: TcpListener,
    service: T,
    config: ServerConfig,
}

#[derive(Clone, Debug)]
struct ServerConfig {
    header_read_timeout: Duration,
    max_connections: usize,
    keep_alive_timeout: Duration,
    drain_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

impl<T> Serve<T> {
    /// Sets how long a client may take to send a request's headers
    /// ([`DEFAULT_HEADER_READ_TIMEOUT`] by default); a client that stalls is disconnected, so
    /// it cannot hold a connection slot. On HTTP/1.1 the clock also runs while a kept-alive
    /// connection waits for its next request.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// Sets how many connections are served at once ([`DEFAULT_MAX_CONNECTIONS`] by default).
    /// Past it, new connections are not refused: they wait in the listener's backlog until a
    /// connection closes.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max.clamp(1, Semaphore::MAX_PERMITS);
        self
    }

    /// Sets how long a connection may stay open with no request in flight
    /// ([`DEFAULT_KEEP_ALIVE_TIMEOUT`] by default); then it is closed gracefully. HTTP/1.1
    /// connections are also bounded by the header read timeout while idle.
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.config.keep_alive_timeout = timeout;
        self
    }

    /// Sets how long graceful shutdown waits for in-flight requests
    /// ([`DEFAULT_DRAIN_TIMEOUT`] by default) before closing what is left.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.config.drain_timeout = timeout;
        self
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Stops the server when `signal` completes: it stops accepting, lets in-flight requests
    /// finish (within the drain timeout), then returns.
    ///
    /// ```no_run
    /// # async {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let router = rpc_core::Router::new();
    /// rpc_hyper::serve(listener, router)
    ///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.ok(); })
    ///     .await?;
    /// # Ok::<(), std::io::Error>(())
    /// # };
    /// ```
    pub fn with_graceful_shutdown<F>(self, signal: F) -> WithGracefulShutdown<T, F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        WithGracefulShutdown {
            serve: self,
            signal,
        }
    }
}

impl<T> fmt::Debug for Serve<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A server that stops on a signal. See [`Serve::with_graceful_shutdown`].
#[must_use = "a server does nothing until awaited"]
pub struct WithGracefulShutdown<T, F> {
    serve: Serve<T>,
    signal: F,
}

impl<T, F> fmt::Debug for WithGracefulShutdown<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithGracefulShutdown")
            .field("serve", &self.serve)
            .finish_non_exhaustive()
    }
}

/// What a service must be for the server to run it: a cloneable tower service of hyper's
/// requests that never fails (errors are responses) and whose future can move between threads.
/// [`RpcService`], an axum `Router` and most tower stacks are.
pub trait HttpService:
    tower_service::Service<
        Request<Incoming>,
        Response = Response<Self::ResponseBody>,
        Error = Infallible,
        Future: Send,
    > + Clone
    + Send
    + 'static
{
    /// The body of the responses.
    type ResponseBody: Body<Data: Send, Error: Into<BoxError>> + Send + 'static;
}

impl<T, B> HttpService for T
where
    T: tower_service::Service<
            Request<Incoming>,
            Response = Response<B>,
            Error = Infallible,
            Future: Send,
        > + Clone
        + Send
        + 'static,
    B: Body<Data: Send, Error: Into<BoxError>> + Send + 'static,
{
    type ResponseBody = B;
}

impl<T: HttpService> IntoFuture for Serve<T> {
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self, std::future::pending()))
    }
}

impl<T: HttpService, F: Future<Output = ()> + Send + 'static> IntoFuture
    for WithGracefulShutdown<T, F>
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self.serve, self.signal))
    }
}

async fn run<T: HttpService, F: Future<Output = ()> + Send>(
    serve: Serve<T>,
    signal: F,
) -> io::Result<()> {
    let Serve {
        listener,
        service,
        config,
    } = serve;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);

    let slots = Arc::new(Semaphore::new(config.max_connections));
    let connections = Arc::new(Connections::new(config.keep_alive_timeout));
    let reaper = tokio::spawn(Arc::clone(&connections).reap_idle());
    let mut signal = pin!(signal);
    tracing::debug!(addr = ?listener.local_addr().ok(), "serving");

    loop {
        // Take a slot before accepting: past the limit, connections wait in the backlog.
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => tokio::select! {
                biased;
                () = &mut signal => break,
                slot = Arc::clone(&slots).acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break,
                },
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %err, "could not set TCP_NODELAY");
        }
        let control = connections.track();
        let builder = Arc::clone(&builder);
        let service = service.clone();
        tokio::spawn(async move {
            serve_connection(&builder, service, TokioIo::new(stream), peer, control).await;
            drop(slot);
        });
    }

    drop(listener);
    reaper.abort();
    let open = config.max_connections - slots.available_permits();
    tracing::debug!(open, "stopped accepting; draining");
    connections.signal_all(DRAIN);
    // Every connection holds a slot until it closes: all slots back means all closed.
    let all = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(config.drain_timeout, slots.acquire_many(all))
        .await
        .is_err()
    {
        let open = config.max_connections - slots.available_permits();
        tracing::warn!(open, "drain timed out; closing the connections left");
        connections.signal_all(CLOSE);
    }
    Ok(())
}

/// Accept errors that concern one connection are passed over; others (out of file
/// descriptors, say) are logged and the loop pauses, so it does not spin.
async fn accept_failed(err: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %err, "accepting a connection failed; pausing");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Serves one connection until it ends, or until its control says to stop.
async fn serve_connection<T: HttpService>(
    builder: &auto::Builder<TokioExecutor>,
    service: T,
    io: TokioIo<tokio::net::TcpStream>,
    peer: SocketAddr,
    control: Arc<Control>,
) {
    let io = TrackedIo {
        inner: io,
        control: Arc::clone(&control),
    };
    let conn = builder.serve_connection(io, TowerToHyperService::new(service));
    let mut conn = pin!(conn);
    let mut signal = SignalWatch::new(&control);
    loop {
        tokio::select! {
            biased;
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, error = %err, "connection ended with an error");
                }
                return;
            }
            level = &mut signal => {
                if level >= CLOSE {
                    return;
                }
                // Draining, or idle past the keep-alive timeout: finish what is in flight.
                tracing::debug!(%peer, "closing gracefully");
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Finish in-flight requests, take no new ones: on shutdown, or when idle.
const DRAIN: u8 = 1;
/// Close now: the drain time is over.
const CLOSE: u8 = 2;

/// The open connections: for the keep-alive timeout and for shutdown.
///
/// One task for the whole server scans them a few times per keep-alive timeout, against a
/// coarse clock it keeps itself. A connection is idle when no byte has moved for the timeout;
/// closing one is graceful, so a request still being worked on (which moves no bytes) is
/// answered first. The I/O path pays a relaxed load and store per read or write, and a
/// connection's wake-ups an atomic load: no clock read, no timer, no lock.
struct Connections {
    keep_alive: Duration,
    start: Instant,
    /// Milliseconds since `start`, as of the last scan.
    now_ms: AtomicU64,
    open: Mutex<Vec<Weak<Control>>>,
}

impl Connections {
    fn new(keep_alive: Duration) -> Self {
        Self {
            keep_alive,
            start: Instant::now(),
            now_ms: AtomicU64::new(0),
            open: Mutex::new(Vec::new()),
        }
    }

    /// Starts watching a new connection.
    fn track(self: &Arc<Self>) -> Arc<Control> {
        let control = Arc::new(Control {
            connections: Arc::clone(self),
            last_active_ms: AtomicU64::new(self.now_ms.load(Ordering::Relaxed)),
            signal: AtomicU8::new(0),
            waker: Mutex::new(None),
        });
        lock(&self.open).push(Arc::downgrade(&control));
        control
    }

    /// Signals every open connection.
    fn signal_all(&self, level: u8) {
        let open: Vec<_> = lock(&self.open).iter().filter_map(Weak::upgrade).collect();
        for control in open {
            control.signal(level);
        }
    }

    async fn reap_idle(self: Arc<Self>) {
        let period = (self.keep_alive / 4).max(Duration::from_millis(10));
        let timeout_ms = u64::try_from(self.keep_alive.as_millis()).unwrap_or(u64::MAX);
        loop {
            tokio::time::sleep(period).await;
            let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.now_ms.store(now, Ordering::Relaxed);
            let mut idle = Vec::new();
            lock(&self.open).retain(|weak| {
                let Some(control) = weak.upgrade() else {
                    return false;
                };
                let quiet_ms = now.saturating_sub(control.last_active_ms.load(Ordering::Relaxed));
                if quiet_ms >= timeout_ms {
                    idle.push(control);
                }
                true
            });
            for control in idle {
                control.signal(DRAIN);
            }
        }
    }
}

/// A lock whose data (a list of weak references, a waker) is valid whatever a panic elsewhere
/// interrupted.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One connection's link to the server.
struct Control {
    connections: Arc<Connections>,
    /// The coarse clock at the connection's last read or write.
    last_active_ms: AtomicU64,
    /// The highest level signalled: 0, [`DRAIN`] or [`CLOSE`].
    signal: AtomicU8,
    /// The connection task's waker.
    waker: Mutex<Option<Waker>>,
}

impl Control {
    fn touch(&self) {
        let now = self.connections.now_ms.load(Ordering::Relaxed);
        self.last_active_ms.store(now, Ordering::Relaxed);
    }

    fn signal(&self, level: u8) {
        if self.signal.fetch_max(level, Ordering::AcqRel) < level {
            // The waker stays: a later, higher signal must find it too.
            if let Some(waker) = lock(&self.waker).as_ref() {
                waker.wake_by_ref();
            }
        }
    }
}

/// Completes each time the connection's signal rises, with the new level.
struct SignalWatch<'a> {
    control: &'a Control,
    seen: u8,
    /// The waker last handed to `control`: while the task's waker is the same, polling takes no
    /// lock.
    registered: Option<Waker>,
}

impl<'a> SignalWatch<'a> {
    fn new(control: &'a Control) -> Self {
        Self {
            control,
            seen: 0,
            registered: None,
        }
    }
}

impl Future for SignalWatch<'_> {
    type Output = u8;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u8> {
        let level = self.control.signal.load(Ordering::Acquire);
        if level > self.seen {
            self.seen = level;
            return Poll::Ready(level);
        }
        if !self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            *lock(&self.control.waker) = Some(cx.waker().clone());
            self.registered = Some(cx.waker().clone());
            // A signal raised before the waker was stored would be missed: look again.
            let level = self.control.signal.load(Ordering::Acquire);
            if level > self.seen {
                self.seen = level;
                return Poll::Ready(level);
            }
        }
        Poll::Pending
    }
}

/// A connection's I/O, noting each read and write for the keep-alive timeout.
struct TrackedIo<I> {
    inner: I,
    control: Arc<Control>,
}

impl<I: hyper::rt::Read + Unpin> hyper::rt::Read for TrackedIo<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if polled.is_ready() {
            self.control.touch();
        }
        polled
    }
}

impl<I: hyper::rt::Write + Unpin> hyper::rt::Write for TrackedIo<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if polled.is_ready() {
            self.control.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if polled.is_ready() {
            self.control.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
