//! The calling side of a stream: the same connection as a server's (both ends are peers),
//! with a handle to send through and a router that answers what the other side asks.

use std::future::Future;
use std::io;

use rpc_core::{Peer, Router};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;

use super::serve::{serve, serve_one, Io, StreamServer};

/// Connects to the other side of a stream (a child process's stdio, a Unix socket, TCP), with
/// no methods of its own: every request the other side sends is answered -32601 "Method not
/// found", and its notifications are dropped. To answer them, give a router:
/// `serve(read, write, router)` and [`StreamServer::connect`].
///
/// ```
/// use rpc_core::{rpc_method, Router};
/// use rpc_hyper::stream;
/// use std::future::IntoFuture;
///
/// /// Adds two integers.
/// #[rpc_method]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A server on one end of an in-memory stream (a child's pipes, a socket alike)...
/// let (ours, theirs) = tokio::io::duplex(4096);
/// let mut router = Router::new();
/// router.register(add::method())?;
/// tokio::spawn(stream::serve_io(theirs, router).into_future());
///
/// // ...and the calling side on the other.
/// let (read, write) = tokio::io::split(ours);
/// let connection = stream::connect(read, write).connect();
/// let sum: i64 = connection.peer().request("add", (2, 3)).await?;
/// assert_eq!(sum, 5);
/// connection.close().await?;
/// # Ok(()) }
/// ```
pub fn connect<R, W>(read: R, write: W) -> StreamServer<Io<R, W>, ()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    serve(read, write, Router::new())
}

impl<R, W, S> StreamServer<Io<R, W>, S>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
    S: Send + Sync + 'static,
{
    /// Runs the connection on a task of its own, and hands back its [`Peer`]: send the other
    /// side requests and notifications through it, while the router answers what the other
    /// side asks. The connection lives until the other side closes its end, or until the
    /// [`Connection`] is closed or dropped (calls in flight on both sides are answered first,
    /// within the drain timeout). Needs a tokio runtime.
    pub fn connect(mut self) -> Connection {
        let peer = self.settings.engine.own_peer();
        let (close, closed) = oneshot::channel::<()>();
        // Closing (or dropping the handle) is the connection's graceful shutdown.
        self.signal = Some(Box::pin(async move {
            let _ = closed.await;
        }));
        let task = tokio::spawn(serve_one(self, Some(peer.clone())));
        Connection {
            peer,
            close: Some(close),
            task,
        }
    }
}

/// A connection to the other side of a stream, running on its task: from
/// [`StreamServer::connect`] or [`connect`]. Dropping it closes the connection.
#[derive(Debug)]
pub struct Connection {
    peer: Peer,
    close: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<io::Result<()>>,
}

impl Connection {
    /// The other side: send it requests and notifications. A clone may be kept elsewhere;
    /// once the connection has closed, what it sends fails with
    /// [`PeerError::Closed`](rpc_core::PeerError::Closed).
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// Closes the connection: the calls in flight on both sides are answered (within the
    /// drain timeout), then it ends. Resolves once it has.
    pub fn close(mut self) -> impl Future<Output = io::Result<()>> {
        drop(self.close.take());
        self.ended()
    }

    /// Resolves when the connection has ended, by either side.
    pub async fn ended(mut self) -> io::Result<()> {
        match (&mut self.task).await {
            Ok(outcome) => outcome,
            Err(err) => Err(io::Error::other(err)),
        }
    }
}
