//! The I/O and service wrappers that tell a connection's reaper what the connection is doing,
//! and how a connection's first bytes tell its protocol.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::control::Control;
use crate::forwarded::{ClientAddr, TrustedProxies};
use crate::served::HttpService;
use crate::wire::Wire;
use bytes::{Buf, Bytes};
use http::Request;
use hyper::body::Incoming;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What an HTTP/2 client sends first (RFC 9113, section 3.4).
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How many bytes the first read of a connection takes, to tell its protocol. A small
/// request fits whole, so hyper then reads it from memory instead of the socket.
const FIRST_READ: usize = 512;

/// The protocol a connection speaks, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// HTTP/1.0 or 1.1; also whatever else a client sends, which hyper's HTTP/1 parser then
    /// answers.
    Http1,
    /// HTTP/2 with prior knowledge (h2c): served with the `http2` feature, refused without.
    Http2,
}

/// A connection's socket, telling the connection's [`Control`] about each read and write,
/// and replaying the bytes read before hyper took over.
pub(crate) struct TrackedIo {
    pub(crate) stream: Wire,
    control: Arc<Control>,
    /// Bytes read from the socket that hyper has not seen yet.
    pub(crate) ahead: Bytes,
    /// Whether reads may start request heads (HTTP/1), or not (HTTP/2).
    heads: bool,
    /// Whether the last write found the socket full: hyper is still sending a response.
    write_blocked: bool,
}

impl TrackedIo {
    pub(crate) fn new(stream: Wire, control: Arc<Control>) -> Self {
        Self {
            stream,
            control,
            ahead: Bytes::new(),
            heads: true,
            write_blocked: false,
        }
    }

    /// Reads the connection's first bytes and tells its protocol, or `None` when the client
    /// left without a word.
    pub(crate) async fn first_read(&mut self) -> io::Result<Option<Protocol>> {
        let mut buf = [0; FIRST_READ];
        let mut filled = 0;
        // HTTP/2 chosen in the TLS handshake: its preface is hyper's to read.
        if crate::wire::negotiated_h2(&self.stream) {
            self.heads = false;
            self.control.no_heads();
            return Ok(Some(Protocol::Http2));
        }
        let protocol = loop {
            let read = match crate::wire::read_some(&mut self.stream, &mut buf[filled..]).await? {
                0 => return Ok(None),
                read => read,
            };
            filled += read;
            self.control.bytes_read();
            let compared = filled.min(HTTP2_PREFACE.len());
            if buf[..compared] != HTTP2_PREFACE[..compared] {
                break Protocol::Http1;
            }
            if compared == HTTP2_PREFACE.len() {
                self.heads = false;
                self.control.no_heads();
                break Protocol::Http2;
            }
        };
        self.ahead = Bytes::copy_from_slice(&buf[..filled]);
        Ok(Some(protocol))
    }
}

impl TrackedIo {
    /// The connection has become a WebSocket: `read_ahead`, read by hyper past the answer,
    /// comes first, and reads no longer start request heads.
    #[cfg(feature = "ws")]
    pub(crate) fn upgraded(&mut self, read_ahead: &[u8]) {
        if !read_ahead.is_empty() {
            let mut ahead = Vec::with_capacity(read_ahead.len() + self.ahead.len());
            ahead.extend_from_slice(read_ahead);
            ahead.extend_from_slice(&self.ahead);
            self.ahead = Bytes::from(ahead);
        }
        self.heads = false;
        self.control.websocket();
    }

    /// The connection's control.
    #[cfg(feature = "ws")]
    pub(crate) fn control(&self) -> &Arc<Control> {
        &self.control
    }

    fn wrote(&mut self, ready: bool) {
        self.write_blocked = !ready;
        if ready {
            self.control.wrote();
        }
    }
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.ahead.is_empty() {
            let len = self.ahead.len().min(buf.remaining());
            buf.put_slice(&self.ahead[..len]);
            self.ahead.advance(len);
            // Bytes kept from a parked connection may begin a request head: time it.
            if self.heads {
                self.control.bytes_read();
            }
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        match polled {
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                if self.heads {
                    self.control.bytes_read();
                } else {
                    self.control.touch();
                }
            }
            Poll::Pending if self.heads && !self.write_blocked => self.control.read_would_wait(),
            _ => {}
        }
        polled
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.wrote(polled.is_ready());
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.wrote(polled.is_ready());
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_flush(cx);
        // TLS takes a write whole into its own buffer even when the socket is full: it is the
        // flush that waits, and hyper is still sending while it does. (TCP's flush is always
        // ready: its writes say when the socket is full.) A flush with nothing waiting is no
        // write: hyper flushes as it reads, and a head trickling in must not restart its clock.
        #[cfg(feature = "tls")]
        match polled {
            Poll::Pending => self.write_blocked = true,
            Poll::Ready(_) if self.write_blocked => self.wrote(true),
            Poll::Ready(_) => {}
        }
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Parking takes hyper's connection apart, not the socket.
        if self.control.is_parking() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A connection's service: the tower service as hyper calls it, counting the requests in
/// flight, so the reaper can tell a request head still arriving from a body or from a request
/// being answered.
pub(crate) struct Counted<T> {
    inner: T,
    control: Arc<Control>,
    /// The client's verified certificate (TLS), put in each request's extensions.
    #[cfg(feature = "tls")]
    pub(crate) client: Option<crate::tls::ClientCertificate>,
    /// The proxies trusted to name the client, and the connection's peer: each request's
    /// [`ClientAddr`] is told from them.
    pub(crate) forwarded: Option<(Arc<TrustedProxies>, IpAddr)>,
}

impl<T> Counted<T> {
    /// Counts `inner`'s requests on `control`.
    pub(crate) fn new(inner: T, control: Arc<Control>) -> Self {
        Self {
            inner,
            control,
            #[cfg(feature = "tls")]
            client: None,
            forwarded: None,
        }
    }
}

impl<T: HttpService> hyper::service::Service<Request<Incoming>> for Counted<T> {
    type Response = T::Response;
    type Error = Infallible;
    type Future = CountedFuture<T>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        self.control.request_started();
        if let Some((proxies, peer)) = &self.forwarded {
            let client = proxies.client(*peer, request.headers());
            request.extensions_mut().insert(ClientAddr(client));
        }
        #[cfg(feature = "tls")]
        if let Some(client) = &self.client {
            request.extensions_mut().insert(client.clone());
        }
        let mut service = self.inner.clone();
        // Most services are always ready (this one's endpoint is): then the call is made at
        // once, and the request is not moved again. One that is not is asked again, with the
        // task's waker, when the future is first polled.
        let noop = &mut Context::from_waker(Waker::noop());
        let stage = match service.poll_ready(noop) {
            Poll::Ready(Ok(())) => Stage::Called {
                future: service.call(request),
            },
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => Stage::NotReady {
                service,
                request: Some(request),
            },
        };
        CountedFuture {
            stage,
            _in_flight: InFlight(Arc::clone(&self.control)),
        }
    }
}

pin_project_lite::pin_project! {
    /// A response future, counted in flight until it is dropped.
    pub(crate) struct CountedFuture<T: HttpService> {
        #[pin]
        stage: Stage<T>,
        _in_flight: InFlight,
    }
}

pin_project_lite::pin_project! {
    #[project = StageProj]
    enum Stage<T: HttpService> {
        // The service was not ready when called.
        NotReady { service: T, request: Option<Request<Incoming>> },
        // The service took the request.
        Called { #[pin] future: T::Future },
    }
}

impl<T: HttpService> Future for CountedFuture<T> {
    type Output = Result<T::Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut stage = self.project().stage;
        loop {
            let future = match stage.as_mut().project() {
                StageProj::Called { future } => return future.poll(cx),
                StageProj::NotReady { service, request } => {
                    match service.poll_ready(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(never)) => match never {},
                        Poll::Ready(Ok(())) => {}
                    }
                    match request.take() {
                        Some(request) => service.call(request),
                        // Taken already: the stage is `Called` from then on, so never here.
                        None => return Poll::Pending,
                    }
                }
            };
            stage.set(Stage::Called { future });
        }
    }
}

/// One request in flight on a connection.
struct InFlight(Arc<Control>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}
