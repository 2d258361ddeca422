//! A listener's connections, each a stream on the engine: the accept loop and the drain are
//! the HTTP server's (`crate::accept`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use rpc_core::{ConnectionId, Context, Router};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::serve::{run_framed, Settings};
use crate::accept::{accept_until, drain, Listen};
use crate::control::{Connections, Control};

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
        run_framed(read, write, &self.router, cx, &self.settings, control).await;
    }
}

/// Serves the connections of `listener`, each by `start` on a task of its own, until the
/// signal; then drains them.
pub(super) async fn serve_listener<L, S, F, Fut>(
    listener: L,
    router: Arc<Router<S>>,
    settings: super::serve::Settings,
    signal: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    start: F,
) -> io::Result<()>
where
    L: Listen,
    S: Send + Sync + 'static,
    F: Fn(L::Io, L::Peer, Conn<S>) -> Fut + Send,
    Fut: Future<Output = ()> + Send + 'static,
{
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
