//! A listener's connections, each a stream on the engine: TCP's and Unix sockets'. The accept
//! loop and the drain are the HTTP server's (`crate::accept`).

use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use rpc_core::{ConnectionId, Context, Router};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::serve::{run_framed, Settings, StreamServer};
use super::Framing;
use crate::accept::{accept_until, drain, Listen};
use crate::control::{Connections, Control};
use crate::engine::Liveness;

/// One accepted connection, to be served: what its task needs.
pub(super) struct Conn<S> {
    router: Arc<Router<S>>,
    settings: Arc<Settings>,
    control: Arc<Control>,
    id: ConnectionId,
    /// Held until the connection closes.
    _slot: OwnedSemaphorePermit,
}

impl<S: Send + Sync + 'static> Conn<S> {
    /// The context every call of the connection starts from.
    pub(super) fn context(&self) -> Context<'static> {
        Context::new().with_connection(self.id)
    }

    /// Serves the connection to its end.
    pub(super) async fn serve<R, W>(self, read: R, write: W, cx: Context<'_>)
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let control = Some(self.control);
        run_framed(read, write, &self.router, cx, &self.settings, control, None).await;
    }
}

/// A listener's server, with the listeners' defaults: auto framing, the idle timeout.
fn listening<L, S: Send + Sync + 'static>(
    listener: L,
    router: impl Into<Arc<Router<S>>>,
) -> StreamServer<Listener<L>, S> {
    let idle = Liveness::Idle(crate::DEFAULT_KEEP_ALIVE_TIMEOUT);
    let listener = Listener {
        listener,
        #[cfg(all(feature = "tcp", feature = "tls"))]
        tls: None,
    };
    StreamServer::new(listener, router, Framing::Auto, idle)
}

/// Serves the connections of the server's listener, each by `start` on a task of its own,
/// until the signal; then drains them.
fn serve_listener<L, S, F, Fut>(
    server: StreamServer<Listener<L>, S>,
    start: F,
) -> Pin<Box<dyn Future<Output = io::Result<()>> + Send>>
where
    L: Listen + 'static,
    S: Send + Sync + 'static,
    F: Fn(L::Io, L::Peer, Conn<S>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Box::pin(accept_and_serve(server, start))
}

async fn accept_and_serve<L, S, F, Fut>(
    server: StreamServer<Listener<L>, S>,
    start: F,
) -> io::Result<()>
where
    L: Listen,
    S: Send + Sync + 'static,
    F: Fn(L::Io, L::Peer, Conn<S>) -> Fut + Send,
    Fut: Future<Output = ()> + Send + 'static,
{
    let StreamServer {
        kind: Listener { listener, .. },
        router,
        settings,
        signal,
    } = server;
    let max_connections = settings.max_connections();
    let slots = Arc::new(Semaphore::new(max_connections));
    // Only the drain and close signals: each connection keeps its own idle timeout.
    let connections = Arc::new(Connections::new(
        std::time::Duration::MAX,
        std::time::Duration::MAX,
        usize::MAX,
    ));
    let settings = Arc::new(settings);
    let signal = async move {
        match signal {
            Some(signal) => signal.await,
            None => std::future::pending().await,
        }
    };
    let tracker = Arc::clone(&connections);
    let shared = Arc::clone(&settings);
    accept_until(listener, &slots, signal, move |io, peer, slot| {
        let conn = Conn {
            router: Arc::clone(&router),
            settings: Arc::clone(&shared),
            control: tracker.track(),
            id: ConnectionId::next(),
            _slot: slot,
        };
        tokio::spawn(start(io, peer, conn));
    })
    .await;
    drain(
        &slots,
        max_connections,
        &connections,
        settings.drain_timeout(),
    )
    .await;
    Ok(())
}

/// A listener's connections: see [`serve_tcp`](super::serve_tcp) and
/// [`serve_ipc`](super::serve_ipc).
#[derive(Debug)]
pub struct Listener<L> {
    listener: L,
    /// TLS, for a TCP listener that serves it.
    #[cfg(all(feature = "tcp", feature = "tls"))]
    tls: Option<crate::tls::ServerTls>,
}

impl<L, S: Send + Sync + 'static> StreamServer<Listener<L>, S> {
    /// Sets how many connections are served at once
    /// ([`DEFAULT_MAX_CONNECTIONS`](crate::DEFAULT_MAX_CONNECTIONS) by default); past it, new
    /// connections wait in the listener's backlog until one closes.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.settings.max_connections = max.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        self
    }

    /// The listener.
    pub fn listener(&self) -> &L {
        &self.kind.listener
    }
}

#[cfg(all(feature = "tcp", feature = "tls"))]
impl<S: Send + Sync + 'static> StreamServer<Listener<tokio::net::TcpListener>, S> {
    /// Serves TLS (the `tls` feature): each connection is a TLS handshake first, within the
    /// handshake timeout, then the stream framings inside it. A client's verified certificate
    /// is in its calls' context ([`ClientCertificate`](crate::tls::ClientCertificate)).
    pub fn tls(mut self, tls: crate::tls::ServerTls) -> Self {
        self.kind.tls = Some(tls);
        self
    }
}

/// Serves `router` on the connections of a TCP listener, JSON-RPC over the stream framings (no
/// HTTP): [`Framing::Auto`] (concatenated values, or lines from a peer that writes lines)
/// unless [`StreamServer::framing`] says otherwise. TCP_NODELAY is on; every call's context has the
/// peer's address.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let router = rpc_core::Router::new();
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:4444").await?;
/// rpc_hyper::stream::serve_tcp(listener, router)
///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.ok(); })
///     .await
/// # }
/// ```
#[cfg(feature = "tcp")]
pub fn serve_tcp<S: Send + Sync + 'static>(
    listener: tokio::net::TcpListener,
    router: impl Into<Arc<Router<S>>>,
) -> StreamServer<Listener<tokio::net::TcpListener>, S> {
    listening(listener, router)
}

#[cfg(feature = "tcp")]
impl<S: Send + Sync + 'static> IntoFuture for StreamServer<Listener<tokio::net::TcpListener>, S> {
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
    fn into_future(mut self) -> Self::IntoFuture {
        #[cfg(feature = "tls")]
        let tls = (self.kind.tls.take()).map(|tls| Arc::new(crate::tls::Acceptor::stream(tls)));
        serve_listener(self, move |mut stream: tokio::net::TcpStream, peer, run| {
            #[cfg(feature = "tls")]
            let tls = tls.clone();
            async move {
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(%peer, error = %err, "could not set TCP_NODELAY");
                }
                let cx = run.context().with_peer(rpc_core::PeerAddr(peer));
                #[cfg(feature = "tls")]
                if let Some(tls) = tls {
                    // A drain or a close ends a handshake at once, as it ends an idle connection.
                    let shaken = {
                        let mut signal = crate::control::SignalWatch::new(&run.control);
                        tokio::select! {
                            biased;
                            _ = &mut signal => None,
                            shaken = crate::tls::handshake(&tls, stream, peer) => shaken,
                        }
                    };
                    let Some((stream, client)) = shaken else {
                        return;
                    };
                    let mut extensions = rpc_core::Extensions::new();
                    if let Some(client) = client {
                        extensions.insert(client);
                    }
                    let (read, write) = tokio::io::split(stream);
                    run.serve(read, write, cx.with_extensions(&extensions))
                        .await;
                    return;
                }
                let (read, write) = stream.split();
                run.serve(read, write, cx).await;
            }
        })
    }
}

/// Serves `router` on the connections of a Unix-socket listener, as an Ethereum node's
/// `.ipc` endpoint does: [`Framing::Auto`] (concatenated values, or lines from a peer that
/// writes lines) unless [`StreamServer::framing`] says otherwise. Every call's context has the peer's credentials
/// ([`PeerCred`](rpc_core::PeerCred), an extension).
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use rpc_hyper::stream::{serve_ipc, IpcListener};
///
/// let router = rpc_core::Router::new();
/// // Refuses a path a live server holds; replaces a stale socket; mode 0600.
/// let listener = IpcListener::bind("/tmp/node.ipc")?;
/// serve_ipc(listener, router)
///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.ok(); })
///     .await // the socket file is removed once the server stops
/// # }
/// ```
#[cfg(all(feature = "ipc", unix))]
pub fn serve_ipc<S: Send + Sync + 'static>(
    listener: super::IpcListener,
    router: impl Into<Arc<Router<S>>>,
) -> StreamServer<Listener<super::IpcListener>, S> {
    listening(listener, router)
}

#[cfg(all(feature = "ipc", unix))]
impl<S: Send + Sync + 'static> IntoFuture for StreamServer<Listener<super::IpcListener>, S> {
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        serve_listener(
            self,
            |mut stream: tokio::net::UnixStream, peer: Option<rpc_core::PeerCred>, run| async move {
                let mut extensions = rpc_core::Extensions::new();
                if let Some(peer) = peer {
                    extensions.insert(peer);
                }
                let cx = run.context().with_extensions(&extensions);
                let (read, write) = stream.split();
                run.serve(read, write, cx).await;
            },
        )
    }
}
