//! The server: accepting connections, their limits and timeouts, and graceful shutdown.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::{poll_fn, Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

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

/// Where the server is in its life, as every connection task sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Serving,
    /// Finish in-flight requests, take no new ones.
    Draining,
    /// The drain time is over: close now.
    Closing,
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
    let (phase, _) = watch::channel(Phase::Serving);
    let mut signal = pin!(signal);
    tracing::debug!(addr = ?listener.local_addr().ok(), "serving");

    loop {
        // Take a slot before accepting: past the limit, connections wait in the backlog.
        let slot = tokio::select! {
            biased;
            () = &mut signal => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
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
        let connection = Connection {
            builder: Arc::clone(&builder),
            service: service.clone(),
            phase: phase.subscribe(),
            keep_alive_timeout: config.keep_alive_timeout,
        };
        tokio::spawn(async move {
            connection.run(TokioIo::new(stream), peer).await;
            drop(slot);
        });
    }

    drop(listener);
    let open = config.max_connections - slots.available_permits();
    tracing::debug!(open, "stopped accepting; draining");
    phase.send_replace(Phase::Draining);
    // Every connection holds a slot until it closes: all slots back means all closed.
    let all = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(config.drain_timeout, slots.acquire_many(all))
        .await
        .is_err()
    {
        let open = config.max_connections - slots.available_permits();
        tracing::warn!(open, "drain timed out; closing the connections left");
        phase.send_replace(Phase::Closing);
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

/// One accepted connection.
struct Connection<T> {
    builder: Arc<auto::Builder<TokioExecutor>>,
    service: T,
    phase: watch::Receiver<Phase>,
    keep_alive_timeout: Duration,
}

impl<T> Connection<T> {
    async fn run(mut self, io: TokioIo<tokio::net::TcpStream>, peer: SocketAddr)
    where
        T: HttpService,
    {
        let activity = Arc::new(Activity::new());
        let service = Tracked {
            inner: self.service,
            activity: Arc::clone(&activity),
        };
        let conn = self.builder.serve_connection(io, service);
        let mut conn = pin!(conn);
        let mut draining = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(%peer, error = %err, "connection ended with an error");
                    }
                    return;
                }
                changed = self.phase.changed() => {
                    let phase = if changed.is_ok() { *self.phase.borrow_and_update() } else { Phase::Closing };
                    match phase {
                        Phase::Serving => {}
                        Phase::Draining if !draining => {
                            draining = true;
                            conn.as_mut().graceful_shutdown();
                        }
                        Phase::Draining => {}
                        Phase::Closing => return,
                    }
                }
                () = activity.idle_for(self.keep_alive_timeout), if !draining => {
                    tracing::debug!(%peer, "idle past the keep-alive timeout; closing");
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Requests in flight on one connection, and when the last one finished.
struct Activity {
    start: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `start` to the end of the last request.
    last_done_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_done_ms: AtomicU64::new(0),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Completes once no request has been in flight for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        loop {
            let idle_ms = self
                .elapsed_ms()
                .saturating_sub(self.last_done_ms.load(Ordering::Acquire));
            if self.in_flight.load(Ordering::Acquire) == 0 && idle_ms >= timeout_ms {
                return;
            }
            let wait = if self.in_flight.load(Ordering::Acquire) > 0 {
                timeout
            } else {
                Duration::from_millis(timeout_ms - idle_ms)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// Counts a connection's requests in flight, for the keep-alive timeout.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .last_done_ms
            .store(self.0.elapsed_ms(), Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The user's service as hyper calls it, with each request counted while in flight.
#[derive(Clone)]
struct Tracked<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: HttpService> hyper::service::Service<Request<Incoming>> for Tracked<T> {
    type Response = Response<T::ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let mut inner = self.inner.clone();
        let in_flight = InFlight::new(Arc::clone(&self.activity));
        Box::pin(async move {
            poll_fn(|cx| inner.poll_ready(cx)).await?;
            let response = inner.call(request).await;
            drop(in_flight);
            response
        })
    }
}
