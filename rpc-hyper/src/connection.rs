//! One connection: which protocol it speaks, and HTTP/1 parking between requests. The I/O and
//! service wrappers that tell the reaper what the connection is doing are in `tracked`.
//!
//! # Parking
//! Hyper gives every HTTP/1 connection a read buffer and a write buffer of 8 KiB each, for as
//! long as the connection lives. Most of a kept-alive connection's life is spent waiting for
//! its next request. So, when many connections are open, a connection whose hyper has
//! answered everything and waits for bytes is parked: hyper's connection is taken apart
//! (keeping any bytes it read ahead), its buffers are freed, and the task waits on the socket
//! alone. When bytes arrive, a new hyper connection picks up where the old one stopped. A
//! waiting connection then costs its task and its socket, about 2 KiB, not 17.
//!
//! Setting up hyper's connection again costs about a quarter more user-space instructions
//! per request, so with few connections open (see [`Serve::keep_buffers_up_to`]) they keep
//! their buffers: memory is then bounded by their number anyway.
//!
//! # Lingering
//! An answer that refuses a request before its body is read in full (a `413`, say) is sent
//! at once, and hyper then closes the connection. Closed with unread bytes, a socket is reset,
//! and the reset can destroy the answer before a client that is still writing its body reads
//! it. So such a connection, once hyper is done with it, reads and drops the rest of the body
//! first (`wire::linger`): until the client closes its side, up to the number of bytes the
//! service names, for [`LINGER_IDLE`] without a byte or [`LINGER_TOTAL`] in all. The server
//! closing outright (past its drain) ends that at once.
//!
//! [`Serve::keep_buffers_up_to`]: crate::Serve::keep_buffers_up_to

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::server::conn::http1;
#[cfg(feature = "http2")]
use hyper::server::conn::http2;
use hyper_util::rt::TokioIo;
#[cfg(feature = "http2")]
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rpc_core::{ConnectionId, PeerAddr};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;

use crate::control::{Control, SignalWatch, CLOSE};
#[cfg(not(feature = "http2"))]
use crate::h2c::refuse_http2;
#[cfg(feature = "http2")]
use crate::h2c::serve_http2;
#[cfg(feature = "ws")]
use crate::local::take_upgrade;
use crate::local::{self, Connection};
use crate::served::HttpService;
use crate::tracked::{Counted, Protocol, TrackedIo};
use crate::wire::{self, Wire};

/// The protocol settings every connection is served with.
pub(crate) struct Protocols {
    http1: http1::Builder,
    #[cfg(feature = "http2")]
    pub(crate) http2: http2::Builder<TokioExecutor>,
    /// TLS, when the server serves it: every connection's handshake comes first.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::Acceptor>,
    /// Whether each connection opens with a PROXY header, and how long it may take to come.
    #[cfg(feature = "proxy-protocol")]
    pub(crate) proxy_protocol: Option<Duration>,
    /// The proxies trusted to name the client ([`Serve::trusted_proxies`]).
    ///
    /// [`Serve::trusted_proxies`]: crate::Serve::trusted_proxies
    pub(crate) trusted: Option<Arc<crate::TrustedProxies>>,
}

/// The protocols a TLS client is offered by ALPN, in order of preference.
#[cfg(feature = "tls")]
pub(crate) const ALPN: &[&[u8]] = if cfg!(feature = "http2") {
    &[b"h2", b"http/1.1"]
} else {
    &[b"http/1.1"]
};

impl Protocols {
    pub(crate) fn new() -> Self {
        // No timer for HTTP/1: with one, hyper arms a timer for every request head. The
        // reaper keeps the header read timeout instead, at no cost per request.
        let mut http1 = http1::Builder::new();
        http1.keep_alive(true);
        Self {
            http1,
            #[cfg(feature = "http2")]
            http2: {
                let mut http2 = http2::Builder::new(TokioExecutor::new());
                http2.timer(TokioTimer::new());
                http2
            },
            #[cfg(feature = "tls")]
            tls: None,
            trusted: None,
            #[cfg(feature = "proxy-protocol")]
            proxy_protocol: None,
        }
    }
}

/// How long a connection that refused a body goes on reading it without a byte arriving.
pub(crate) const LINGER_IDLE: Duration = Duration::from_secs(2);

/// How long a connection that refused a body goes on reading it in all.
pub(crate) const LINGER_TOTAL: Duration = Duration::from_secs(10);

/// Serves one connection until it ends, or until its control says to stop.
///
/// `slot` is held while the connection is served, by whichever task serves it: a WebSocket
/// goes on on a task of its own, sized for it alone, and takes the slot along.
pub(crate) async fn serve_connection<T: HttpService>(
    protocols: Arc<Protocols>,
    service: T,
    #[cfg_attr(not(feature = "proxy-protocol"), allow(unused_mut))] mut stream: TcpStream,
    #[cfg_attr(not(feature = "proxy-protocol"), allow(unused_mut))] mut peer: SocketAddr,
    control: Arc<Control>,
    slot: Option<OwnedSemaphorePermit>,
) {
    // The balancer's header comes before anything else, TLS's handshake included: the
    // client it names is the connection's peer from here on.
    #[cfg(feature = "proxy-protocol")]
    if let Some(timeout) = protocols.proxy_protocol {
        match crate::proxy::read_header(&mut stream, peer, timeout).await {
            Some(client) => peer = client,
            None => return,
        }
    }
    let connection = Connection {
        peer: PeerAddr(peer),
        id: ConnectionId::next(),
    };
    let serving = serve_identified(
        &protocols,
        service,
        stream,
        peer,
        Arc::clone(&control),
        slot,
    );
    local::scope(connection, control, serving).await;
}

async fn serve_identified<T: HttpService>(
    protocols: &Protocols,
    service: T,
    stream: TcpStream,
    peer: SocketAddr,
    control: Arc<Control>,
    slot: Option<OwnedSemaphorePermit>,
) {
    let mut signal = SignalWatch::new(&control);
    #[cfg(feature = "tls")]
    let (stream, client) = match &protocols.tls {
        None => (Wire::Tcp(stream), None),
        Some(acceptor) => {
            control.handshake_started();
            tokio::select! {
                biased;
                _ = &mut signal => return,
                shaken = crate::tls::handshake(acceptor, stream, peer) => match shaken {
                    Some((tls, client)) => {
                        control.handshake_done();
                        (Wire::Tls(Box::new(tls)), client)
                    }
                    None => return,
                },
            }
        }
    };
    #[cfg(not(feature = "tls"))]
    let stream: Wire = stream;
    let mut io = TrackedIo::new(stream, Arc::clone(&control));
    let protocol = tokio::select! {
        biased;
        // Nothing in flight yet: draining and closing alike end the connection.
        _ = &mut signal => return,
        sniffed = io.first_read() => match sniffed {
            Ok(Some(protocol)) => protocol,
            Ok(None) => return,
            Err(err) => {
                tracing::debug!(%peer, error = %err, "reading a new connection failed");
                return;
            }
        },
    };
    let mut service = Counted::new(service, Arc::clone(&control));
    #[cfg(feature = "tls")]
    {
        service.client = client;
    }
    service.forwarded = protocols
        .trusted
        .clone()
        .map(|proxies| (proxies, peer.ip()));
    let ended = match protocol {
        Protocol::Http1 => serve_http1(protocols, io, service, &control, &mut signal, slot).await,
        #[cfg(feature = "http2")]
        Protocol::Http2 => serve_http2(&protocols.http2, io, service, &mut signal).await,
        #[cfg(not(feature = "http2"))]
        Protocol::Http2 => refuse_http2(io).await,
    };
    if let Err(err) = ended {
        tracing::debug!(%peer, error = %err, "connection ended with an error");
    }
}

async fn serve_http1<T: HttpService>(
    protocols: &Protocols,
    mut io: TrackedIo,
    mut service: Counted<T>,
    control: &Control,
    signal: &mut SignalWatch<'_>,
    slot: Option<OwnedSemaphorePermit>,
) -> hyper::Result<()> {
    // Held until the connection ends (a WebSocket takes it along).
    #[cfg(not(feature = "ws"))]
    let _slot = slot;
    loop {
        // Parked: wait for bytes, holding no buffer. Nothing is in flight, so draining and
        // closing alike end the connection.
        if io.ahead.is_empty() {
            tokio::select! {
                biased;
                _ = &mut *signal => return Ok(()),
                readable = crate::wire::readable(&io.stream) => {
                    if let Err(err) = readable {
                        tracing::debug!(error = %err, "a parked connection failed");
                        return Ok(());
                    }
                }
            }
        }
        control.set_parking(false);
        let mut conn = protocols.http1.serve_connection(TokioIo::new(io), service);
        match poll_fn(|cx| drive_http1(&mut conn, control, signal, cx)).await {
            Http1::Parked => {
                let parts = conn.into_parts();
                io = parts.io.into_inner();
                service = parts.service;
                // Keep what hyper read ahead, but not the buffer it lies in, before anything
                // it had yet to read.
                if !parts.read_buf.is_empty() {
                    let mut ahead = Vec::with_capacity(parts.read_buf.len() + io.ahead.len());
                    ahead.extend_from_slice(&parts.read_buf);
                    ahead.extend_from_slice(&io.ahead);
                    io.ahead = Bytes::from(ahead);
                }
            }
            // Closed outright: nothing more is read, and the socket goes at once.
            Http1::Closed => return Ok(()),
            Http1::Ended(ended) => {
                // An answer that accepted a WebSocket, written: hyper has let go of the socket.
                // (Had writing the answer failed, the client would not be there to use it.)
                #[cfg(feature = "ws")]
                if let Some(upgrade) = take_upgrade().filter(|_| ended.is_ok()) {
                    // Only the socket lives on: hyper's buffers (what `read_buf` shares) and
                    // the service are dropped here, not held for the WebSocket's life.
                    let (mut io, read_buf) = {
                        let parts = conn.into_parts();
                        (parts.io.into_inner(), parts.read_buf)
                    };
                    io.upgraded(&read_buf);
                    drop(read_buf);
                    // On a task of its own: this one, sized for HTTP's state, ends.
                    upgrade.start(io, slot);
                    return Ok(());
                }
                let linger = control.lingers();
                if linger > 0 && ended.is_ok() {
                    // hyper has written its last answer and shut the socket for writing.
                    let mut io = conn.into_parts().io.into_inner();
                    let lingering = wire::linger(&mut io.stream, linger, LINGER_IDLE, LINGER_TOTAL);
                    tokio::select! {
                        biased;
                        () = closed(signal) => {}
                        () = lingering => {}
                    }
                }
                return ended;
            }
        }
    }
}

/// Completes when the server closes its connections outright.
async fn closed(signal: &mut SignalWatch<'_>) {
    while !signal.seen_close() && (&mut *signal).await < CLOSE {}
}

/// How an HTTP/1 connection stopped.
enum Http1 {
    /// It waits for its next request, parked.
    Parked,
    /// It is over.
    Ended(hyper::Result<()>),
    /// The server closes it outright, in the middle of whatever it was doing.
    Closed,
}

/// Runs hyper's HTTP/1 connection until it ends, or waits for a request with nothing else to
/// do (then it is parked).
fn drive_http1<T: HttpService>(
    conn: &mut http1::Connection<TokioIo<TrackedIo>, Counted<T>>,
    control: &Control,
    signal: &mut SignalWatch<'_>,
    cx: &mut Context<'_>,
) -> Poll<Http1> {
    loop {
        if let Poll::Ready(ended) = Pin::new(&mut *conn).poll(cx) {
            return Poll::Ready(Http1::Ended(ended));
        }
        // Hyper waits for the next request: closing it (keeping the socket) frees its buffers.
        // (Crowding first: it is a plain load, where taking the flag is a swap.)
        if control.crowded() && control.take_waiting() && !signal.seen_any() {
            control.set_parking(true);
            Pin::new(&mut *conn).graceful_shutdown();
            // Idle, hyper closes at once. If it does not, it was in the middle of an exchange
            // after all (a response still being flushed, say): it now finishes it and closes
            // the connection for real, as its response says.
            let polled = Pin::new(&mut *conn).poll(cx);
            if let Poll::Ready(Ok(())) = polled {
                return Poll::Ready(Http1::Parked);
            }
            control.set_parking(false);
            if let Poll::Ready(Err(err)) = polled {
                return Poll::Ready(Http1::Ended(Err(err)));
            }
        }
        match Pin::new(&mut *signal).poll(cx) {
            Poll::Ready(level) if level >= CLOSE => return Poll::Ready(Http1::Closed),
            Poll::Ready(_) => {
                // Draining, or idle past the keep-alive timeout: finish what is in flight,
                // and really close (a connection is never left marked as parking).
                Pin::new(&mut *conn).graceful_shutdown();
            }
            Poll::Pending => return Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests;
