//! The server: accepting connections, their limits and timeouts, and graceful shutdown.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::accept::{accept_until, drain};
use crate::connection::{serve_connection, Protocols};
use crate::control::Connections;
use crate::served::HttpService;
use crate::RpcService;
use crate::{
    DEFAULT_DRAIN_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT,
    DEFAULT_KEEP_BUFFERS_UP_TO, DEFAULT_MAX_CONNECTIONS,
};

/// Binds a listener suited to [`serve`]: `SO_REUSEADDR` (a restarted server can bind at
/// once) and a listen backlog of [`DEFAULT_BACKLOG`](crate::DEFAULT_BACKLOG).
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
    socket.listen(crate::DEFAULT_BACKLOG)
}

/// Serves a JSON-RPC router (or an [`RpcService`]) on `listener`: HTTP/1.1, and with the
/// `http2` feature HTTP/2 (cleartext, prior knowledge) on the same port.
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
    serve_service(listener, rpc.into().served_alone())
}

/// Serves any HTTP service on `listener`: an axum `Router` with an [`RpcService`] mounted in
/// it, an [`RpcService`] wrapped in tower layers, and so on. The service is cloned for each
/// connection.
pub fn serve_service<T>(listener: TcpListener, service: T) -> Serve<T> {
    Serve {
        listener,
        service,
        config: ServerConfig::default(),
        #[cfg(feature = "tls")]
        tls: None,
    }
}

/// A server about to run: configure it, then `.await` it. See [`serve`].
#[must_use = "a server does nothing until awaited"]
pub struct Serve<T> {
    listener: TcpListener,
    service: T,
    config: ServerConfig,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::ServerTls>,
}

#[derive(Clone, Debug)]
struct ServerConfig {
    header_read_timeout: Duration,
    max_connections: usize,
    keep_alive_timeout: Duration,
    drain_timeout: Duration,
    keep_buffers_up_to: usize,
    shutdown_delay: Duration,
    trusted: Option<Arc<crate::TrustedProxies>>,
    #[cfg(feature = "proxy-protocol")]
    proxy_protocol: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            keep_buffers_up_to: DEFAULT_KEEP_BUFFERS_UP_TO,
            shutdown_delay: Duration::ZERO,
            trusted: None,
            #[cfg(feature = "proxy-protocol")]
            proxy_protocol: false,
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
    /// ([`DEFAULT_KEEP_ALIVE_TIMEOUT`] by default); then it is closed gracefully. One still
    /// open a timeout later with no request being worked on (a response stuck on a client
    /// that does not read it) is closed at once.
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.config.keep_alive_timeout = timeout;
        self
    }

    /// Sets up to how many open connections each keeps its buffers while it waits for its next
    /// request ([`DEFAULT_KEEP_BUFFERS_UP_TO`] by default).
    ///
    /// Hyper gives an HTTP/1 connection 16 KiB of buffers for its whole life, which makes an
    /// idle kept-alive connection cost about 17 KiB. Past this many open connections, a
    /// connection waiting for a request gives its buffers back (it is *parked*) and takes new
    /// ones when the request comes: it then costs about 2 KiB while it waits, and each of its
    /// requests costs about a quarter more user-space instructions. `0` parks every waiting
    /// connection; `usize::MAX` none.
    pub fn keep_buffers_up_to(mut self, connections: usize) -> Self {
        self.config.keep_buffers_up_to = connections;
        self
    }

    /// Sets how long graceful shutdown waits for in-flight requests
    /// ([`DEFAULT_DRAIN_TIMEOUT`] by default) before closing what is left.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.config.drain_timeout = timeout;
        self
    }

    /// Sets how long the server goes on serving once its shutdown signal has come (none by
    /// default), answering its health check `503 Service Unavailable` all the while: time for
    /// a load balancer to see it and stop sending, before the server stops accepting and
    /// drains. Set it to what the balancer takes to mark an instance down (its health-check
    /// interval times its unhealthy threshold), and the drain timeout to the longest request;
    /// see the README's "Going past one machine".
    pub fn shutdown_delay(mut self, delay: Duration) -> Self {
        self.config.shutdown_delay = delay;
        self
    }

    /// Believes the forwarding header (`X-Forwarded-For`, or `Forwarded` with
    /// [`TrustedProxies::forwarded_header`](crate::TrustedProxies::forwarded_header)) of requests
    /// that come from `proxies`: each request's [`ClientAddr`](crate::ClientAddr), in its
    /// extensions and its calls' context, is then the address behind them. Never by
    /// default: a client could name any address in a header.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let proxies = rpc_hyper::TrustedProxies::new(["10.0.0.0/8"])?;
    /// let listener = rpc_hyper::bind("0.0.0.0:8080".parse()?)?;
    /// rpc_hyper::serve(listener, rpc_core::Router::new()).trusted_proxies(proxies).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn trusted_proxies(mut self, proxies: crate::TrustedProxies) -> Self {
        self.config.trusted = Some(Arc::new(proxies));
        self
    }

    /// Reads the PROXY protocol (HAProxy's, versions 1 and 2; the `proxy-protocol` feature)
    /// on every connection: a balancer that passes connections through (TLS included) sends
    /// a header naming the client first, and the server reads it before anything else,
    /// within the header read timeout. The client it names is the connection's peer
    /// (`PeerAddr` in the calls' context, and the address trusted proxies are looked for
    /// behind); a `LOCAL` header (the balancer's own health check) leaves the balancer's. Only
    /// when asked, and then required: a connection that does not open with a valid header is
    /// closed, so that no client can name an address of its choosing.
    #[cfg(feature = "proxy-protocol")]
    pub fn proxy_protocol(mut self) -> Self {
        self.config.proxy_protocol = true;
        self
    }

    /// Serves TLS (the `tls` feature): every connection is a TLS handshake first, within the
    /// handshake timeout, then HTTP/1.1, h2 (chosen by ALPN, with the `http2` feature) or a
    /// WebSocket (`wss://`), on the one port. A client's verified certificate is in its calls'
    /// context ([`ClientCertificate`](crate::tls::ClientCertificate)); a client that sends
    /// plaintext HTTP is answered `400` and closed. See the [`tls`](crate::tls) module.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = rpc_hyper::tls::ServerTls::from_pem_files("cert.pem", "key.pem")?;
    /// let listener = rpc_hyper::bind("127.0.0.1:8443".parse()?)?;
    /// rpc_hyper::serve(listener, rpc_core::Router::new()).tls(tls).await?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::ServerTls) -> Self {
        self.tls = Some(tls);
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
        #[cfg(feature = "tls")]
        tls,
    } = serve;
    let mut protocols = Protocols::new();
    protocols.trusted = config.trusted.clone();
    #[cfg(feature = "proxy-protocol")]
    {
        protocols.proxy_protocol = config.proxy_protocol.then_some(config.header_read_timeout);
    }
    #[cfg(feature = "tls")]
    {
        protocols.tls = tls.map(|tls| crate::tls::Acceptor::http(tls, crate::connection::ALPN));
    }
    let protocols = Arc::new(protocols);

    let slots = Arc::new(Semaphore::new(config.max_connections));
    let connections = Arc::new(Connections::new(
        config.keep_alive_timeout,
        config.header_read_timeout,
        config.keep_buffers_up_to,
    ));
    let reaper = connections.start_reaper();
    tracing::debug!(addr = ?listener.local_addr().ok(), "serving");
    // On the signal, the health check says so at once; serving goes on for the delay.
    let (stopping, delay) = (Arc::clone(&connections), config.shutdown_delay);
    let signal = async move {
        signal.await;
        stopping.stop_admitting();
        if !delay.is_zero() {
            tracing::info!(
                delay_ms = delay.as_millis(),
                "shutting down: the health check answers 503; serving goes on for the delay"
            );
            tokio::time::sleep(delay).await;
        }
    };

    let tracker = Arc::clone(&connections);
    accept_until(
        listener,
        &slots,
        signal,
        move |stream: TcpStream, peer, slot| {
            if let Err(err) = stream.set_nodelay(true) {
                tracing::debug!(%peer, error = %err, "could not set TCP_NODELAY");
            }
            let control = tracker.track();
            let protocols = Arc::clone(&protocols);
            let service = service.clone();
            tokio::spawn(serve_connection(
                protocols,
                service,
                stream,
                peer,
                control,
                Some(slot),
            ));
        },
    )
    .await;
    drop(reaper);
    drain(
        &slots,
        config.max_connections,
        &connections,
        config.drain_timeout,
    )
    .await;
    Ok(())
}
