//! Stdin and stdout as the stream.

use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rpc_core::Router;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

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
/// When stdin and stdout are pipes (as a host launches an MCP or language server), they are
/// read and written on the runtime's reactor, without blocking: on Linux each is opened anew
/// (through `/proc/self/fd`), so that the process's own descriptors, shared with its parent,
/// keep their blocking mode. Otherwise (a terminal, a file, another system), tokio reads
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

/// Stdin: a pipe read on the reactor, or tokio's blocking handle.
enum StdinStream {
    #[cfg(target_os = "linux")]
    Pipe(tokio::net::unix::pipe::Receiver),
    Blocking(tokio::io::Stdin),
}

/// Stdout: a pipe written on the reactor, or tokio's blocking handle.
enum StdoutStream {
    #[cfg(target_os = "linux")]
    Pipe(tokio::net::unix::pipe::Sender),
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
        Self::Blocking(tokio::io::stdout())
    }
}

impl AsyncRead for StdinStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            #[cfg(target_os = "linux")]
            Self::Pipe(pipe) => Pin::new(pipe).poll_read(cx, buf),
            Self::Blocking(stdin) => Pin::new(stdin).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for StdoutStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            #[cfg(target_os = "linux")]
            Self::Pipe(pipe) => Pin::new(pipe).poll_write(cx, buf),
            Self::Blocking(stdout) => Pin::new(stdout).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            #[cfg(target_os = "linux")]
            Self::Pipe(pipe) => Pin::new(pipe).poll_write_vectored(cx, bufs),
            Self::Blocking(stdout) => Pin::new(stdout).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Self::Pipe(pipe) => pipe.is_write_vectored(),
            Self::Blocking(stdout) => stdout.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            #[cfg(target_os = "linux")]
            Self::Pipe(pipe) => Pin::new(pipe).poll_flush(cx),
            Self::Blocking(stdout) => Pin::new(stdout).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            #[cfg(target_os = "linux")]
            Self::Pipe(pipe) => Pin::new(pipe).poll_shutdown(cx),
            Self::Blocking(stdout) => Pin::new(stdout).poll_shutdown(cx),
        }
    }
}
