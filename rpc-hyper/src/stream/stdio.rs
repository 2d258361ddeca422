//! Stdin and stdout as the stream.

use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use rpc_core::Router;

use super::serve::{serve_one, Io, StreamServer};
use super::Framing;
use crate::either_io::either_io;
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
/// When stdin and stdout are pipes or Unix sockets (as a host launches an MCP or language
/// server: pipes, or socketpairs from Node's `child_process`), they are read and written on
/// the runtime's reactor, without blocking (which needs a runtime with IO enabled). A pipe is
/// opened anew on Linux (through `/proc/self/fd`), so that the descriptors shared with the
/// parent keep their blocking mode; a socket's end is the process's own, and becomes
/// non-blocking. Otherwise (a terminal, a file, a pipe elsewhere than Linux), tokio reads
/// stdin on a thread of its blocking pool, and a read that waits cannot be stopped: a server
/// stopped by its shutdown signal while stdin is still open returns, but dropping the runtime
/// then waits for that read. End the runtime with `Runtime::shutdown_background` (or exit the
/// process) after the server returns.
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
        let (read, write) = (StdinStream::open(), StdoutStream::open());
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

/// Stdin: a pipe or a socket read on the reactor, or tokio's blocking handle.
enum StdinStream {
    #[cfg(target_os = "linux")]
    Pipe(tokio::net::unix::pipe::Receiver),
    #[cfg(unix)]
    Socket(tokio::net::UnixStream),
    Blocking(tokio::io::Stdin),
}

/// Stdout: a pipe or a socket written on the reactor, or tokio's blocking handle.
enum StdoutStream {
    #[cfg(target_os = "linux")]
    Pipe(tokio::net::unix::pipe::Sender),
    #[cfg(unix)]
    Socket(tokio::net::UnixStream),
    Blocking(tokio::io::Stdout),
}

impl StdinStream {
    fn open() -> Self {
        #[cfg(target_os = "linux")]
        {
            // Opened anew, without blocking (a pipe whose writers are all gone still opens,
            // and reads its end at once); anything but a pipe is refused, and falls back.
            let pipe = tokio::net::unix::pipe::OpenOptions::new().open_receiver("/proc/self/fd/0");
            if let Ok(pipe) = pipe {
                return Self::Pipe(pipe);
            }
        }
        #[cfg(unix)]
        if let Some(socket) = socket(&std::io::stdin()) {
            return Self::Socket(socket);
        }
        Self::Blocking(tokio::io::stdin())
    }
}

impl StdoutStream {
    fn open() -> Self {
        #[cfg(target_os = "linux")]
        {
            let pipe = tokio::net::unix::pipe::OpenOptions::new().open_sender("/proc/self/fd/1");
            if let Ok(pipe) = pipe {
                return Self::Pipe(pipe);
            }
        }
        #[cfg(unix)]
        if let Some(socket) = socket(&std::io::stdout()) {
            return Self::Socket(socket);
        }
        Self::Blocking(tokio::io::stdout())
    }
}

/// A standard stream that is a Unix socket (a socketpair's end, as Node's `child_process`
/// and so every host built on it gives a child), as a socket of the reactor. A socket cannot
/// be opened anew: this is a duplicate of the descriptor, and the process's own standard
/// stream becomes non-blocking too (its other end, the parent's, does not).
#[cfg(unix)]
fn socket(stream: &impl std::os::fd::AsFd) -> Option<tokio::net::UnixStream> {
    let socket = std::os::unix::net::UnixStream::from(stream.as_fd().try_clone_to_owned().ok()?);
    // Only a socket has an address.
    socket.local_addr().ok()?;
    socket.set_nonblocking(true).ok()?;
    tokio::net::UnixStream::from_std(socket).ok()
}

either_io!(read StdinStream {
    #[cfg(target_os = "linux")]
    Pipe,
    #[cfg(unix)]
    Socket,
    Blocking,
});

either_io!(write StdoutStream {
    #[cfg(target_os = "linux")]
    Pipe,
    #[cfg(unix)]
    Socket,
    Blocking,
});
