//! The server: accepting connections, their limits and timeouts, and graceful shutdown.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
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
    /// Sets how long a client may take to send a request's head
    /// ([`DEFAULT_HEADER_READ_TIMEOUT`] by default), from its first byte, or for a new
    /// connection from the connection; a client that is late is disconnected, so it cannot
    /// hold a connection slot. A kept-alive connection waiting for its next request is bound
    /// by the keep-alive timeout instead. The timeout is checked eight times per period, so a
    /// late client is cut off after between 1 and 1¼ times it. HTTP/1 only: HTTP/2 requests
    /// are streams on a connection that has already spoken.
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
    /// ([`DEFAULT_KEEP_ALIVE_TIMEOUT`] by default); then it is closed gracefully.
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
    // No timer for HTTP/1: with one, hyper arms a timer for every request head. The reaper
    // below keeps the header read timeout instead, at no cost per request.
    builder.http1().keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);

    let slots = Arc::new(Semaphore::new(config.max_connections));
    let connections = Arc::new(Connections::new(
        config.keep_alive_timeout,
        config.header_read_timeout,
    ));
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
            serve_connection(&builder, service, stream, peer, control).await;
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
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    control: Arc<Control>,
) {
    let io = TokioIo::new(TrackedIo::new(stream, Arc::clone(&control)));
    let service = Counted {
        inner: TowerToHyperService::new(service),
        control: Arc::clone(&control),
    };
    let conn = builder.serve_connection(io, service);
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

/// The open connections: for the keep-alive and header read timeouts, and for shutdown.
///
/// One task for the whole server scans them eight times per timeout, against a coarse clock
/// it keeps itself; the I/O path pays a few relaxed atomic loads and stores per read or write,
/// and a connection's wake-ups an atomic load: no clock read, no timer, no lock.
///
/// - A connection is idle when no byte has moved for the keep-alive timeout. Closing one is
///   graceful, so a request still being worked on (which moves no bytes) is answered first.
/// - A request head is late when its first byte (or, on a new connection, the connection
///   itself) came longer than the header read timeout ago and the head is still incomplete.
///   Such a connection is closed at once. The clock starts at the first byte, so a kept-alive
///   connection waiting for its next request is bound by the keep-alive timeout alone.
///   HTTP/2 connections have no request heads in this sense: their requests are streams.
///
/// A deadline is met once the clock has moved past it by a scan period, so a connection is
/// never closed early by the clock's coarseness: it gets between 1 and 1¼ times its timeout.
struct Connections {
    keep_alive_ms: u64,
    header_read_ms: u64,
    period: Duration,
    start: Instant,
    /// Milliseconds since `start`, as of the last scan.
    now_ms: AtomicU64,
    open: Mutex<Vec<Weak<Control>>>,
}

/// `Control::head_since_ms` when no request head is arriving.
const NO_HEAD: u64 = u64::MAX;

impl Connections {
    fn new(keep_alive: Duration, header_read: Duration) -> Self {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            keep_alive_ms: millis(keep_alive),
            header_read_ms: millis(header_read),
            period: (keep_alive.min(header_read) / 8).max(Duration::from_millis(5)),
            start: Instant::now(),
            now_ms: AtomicU64::new(0),
            open: Mutex::new(Vec::new()),
        }
    }

    /// Starts watching a new connection; the clock for its first request head starts now.
    fn track(self: &Arc<Self>) -> Arc<Control> {
        let now = self.now_ms.load(Ordering::Relaxed);
        let control = Arc::new(Control {
            connections: Arc::clone(self),
            last_active_ms: AtomicU64::new(now),
            head_since_ms: AtomicU64::new(now),
            in_flight: AtomicUsize::new(0),
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
        let period_ms = u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX);
        let idle_after = self.keep_alive_ms.saturating_add(period_ms);
        let late_after = self.header_read_ms.saturating_add(period_ms);
        loop {
            tokio::time::sleep(self.period).await;
            let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.now_ms.store(now, Ordering::Relaxed);
            let mut due = Vec::new();
            lock(&self.open).retain(|weak| {
                let Some(control) = weak.upgrade() else {
                    return false;
                };
                let head_since = control.head_since_ms.load(Ordering::Relaxed);
                if head_since != NO_HEAD && now.saturating_sub(head_since) >= late_after {
                    due.push((control, CLOSE));
                } else {
                    let last_active = control.last_active_ms.load(Ordering::Relaxed);
                    if now.saturating_sub(last_active) >= idle_after {
                        due.push((control, DRAIN));
                    }
                }
                true
            });
            for (control, level) in due {
                if level == CLOSE {
                    tracing::debug!("a request head is late; closing its connection");
                }
                control.signal(level);
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
    /// The coarse clock when the request head now arriving began, or [`NO_HEAD`].
    head_since_ms: AtomicU64,
    /// Requests handed to the service whose responses are not ready yet.
    in_flight: AtomicUsize,
    /// The highest level signalled: 0, [`DRAIN`] or [`CLOSE`].
    signal: AtomicU8,
    /// The connection task's waker.
    waker: Mutex<Option<Waker>>,
}

impl Control {
    fn now_ms(&self) -> u64 {
        self.connections.now_ms.load(Ordering::Relaxed)
    }

    /// Bytes arrived: if no request is in flight and no head is arriving, they start one.
    fn bytes_read(&self, now_ms: u64) {
        self.last_active_ms.store(now_ms, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_since_ms.load(Ordering::Relaxed) == NO_HEAD
        {
            self.head_since_ms.store(now_ms, Ordering::Relaxed);
        }
    }

    /// Bytes were written.
    fn touch(&self) {
        self.last_active_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// A request's head is complete: it is handed to the service.
    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_since_ms.store(NO_HEAD, Ordering::Relaxed);
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

/// A connection's I/O, noting each read and write for the timeouts.
struct TrackedIo<I> {
    inner: I,
    control: Arc<Control>,
    protocol: Protocol,
}

/// What the first bytes of a connection say it speaks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// This many bytes of the HTTP/2 preface have arrived, and nothing else.
    Sniffing(usize),
    Http1,
    Http2,
}

/// What an HTTP/2 client sends first (RFC 9113, section 3.4).
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

impl<I> TrackedIo<I> {
    fn new(inner: I, control: Arc<Control>) -> Self {
        Self {
            inner,
            control,
            protocol: Protocol::Sniffing(0),
        }
    }

    fn bytes_read(&mut self, bytes: &[u8]) {
        if let Protocol::Sniffing(seen) = self.protocol {
            let expected = &HTTP2_PREFACE[seen..];
            let compared = bytes.len().min(expected.len());
            self.protocol = if bytes[..compared] != expected[..compared] {
                Protocol::Http1
            } else if compared == expected.len() {
                // HTTP/2 has no request heads to time: no head is arriving, now or later.
                self.control.head_since_ms.store(NO_HEAD, Ordering::Relaxed);
                Protocol::Http2
            } else {
                Protocol::Sniffing(seen + compared)
            };
        }
        let now = self.control.now_ms();
        if self.protocol == Protocol::Http2 {
            self.control.last_active_ms.store(now, Ordering::Relaxed);
        } else {
            self.control.bytes_read(now);
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for TrackedIo<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if polled.is_ready() && buf.filled().len() > before {
            self.bytes_read(&buf.filled()[before..]);
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for TrackedIo<I> {
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

/// A connection's service: counts the requests in flight, so the reaper can tell a request
/// head still arriving from a body or from a request being answered.
struct Counted<T> {
    inner: T,
    control: Arc<Control>,
}

impl<T, R> hyper::service::Service<R> for Counted<T>
where
    T: hyper::service::Service<R>,
{
    type Response = T::Response;
    type Error = T::Error;
    type Future = CountedFuture<T::Future>;

    fn call(&self, request: R) -> Self::Future {
        self.control.request_started();
        CountedFuture {
            inner: self.inner.call(request),
            _in_flight: InFlight(Arc::clone(&self.control)),
        }
    }
}

pin_project_lite::pin_project! {
    /// A response future, counted in flight until it is dropped.
    struct CountedFuture<F> {
        #[pin]
        inner: F,
        _in_flight: InFlight,
    }
}

impl<F: Future> Future for CountedFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

/// One request in flight on a connection.
struct InFlight(Arc<Control>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
