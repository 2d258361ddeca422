//! Stdin and stdout as the stream.

use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use rpc_core::Router;

use super::serve::{serve_one, Io, StreamServer};
use super::Framing;
use crate::engine::Liveness;

/// Stdin and stdout: see [`stdio`].
#[derive(Debug)]
pub struct Stdio(());

/// Serves `router` on the process's stdin and stdout until stdin closes, then answers the
/// calls in flight, writes out everything, and returns: the process can exit 0.
/// Newline-delimited (MCP's stdio transport) unless [`StreamServer::framing`] says otherwise
/// ([`Framing::ContentLength`] for a language server).
///
/// Nothing but JSON-RPC messages goes to stdout; a method that prints to stdout itself breaks
/// the stream (log to stderr). See the [module docs](super).
///
/// tokio reads stdin on a thread of its blocking pool, and a read that waits cannot be
/// stopped: a server stopped by its shutdown signal while stdin is still open returns, but
/// dropping the runtime then waits for that read. End the runtime with
/// `Runtime::shutdown_background` (or exit the process) after the server returns.
pub fn stdio<S: Send + Sync + 'static>(
    router: impl Into<Arc<Router<S>>>,
) -> StreamServer<Stdio, S> {
    let mut server = StreamServer::new(Stdio(()), router, Framing::Newline, Liveness::Forever);
    // A read of stdin cannot be stopped: a closing connection does not start one.
    server.settings.linger = false;
    server
}

impl<S: Send + Sync + 'static> IntoFuture for StreamServer<Stdio, S> {
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let (read, write) = (tokio::io::stdin(), tokio::io::stdout());
        // The same server, on stdin and stdout.
        let server = StreamServer {
            kind: Io { read, write },
            router: self.router,
            settings: self.settings,
            signal: self.signal,
        };
        Box::pin(serve_one(server, None))
    }
}
