//! The connection engine: one JSON-RPC connection that can push, over any transport that
//! carries whole messages. The WebSocket (`ws`) and the byte streams (`stream`: stdio, Unix
//! sockets, TCP, any `AsyncRead + AsyncWrite`) are its transports; each is a [`Transport`]
//! (how to read the next message, how to write one) and a few lines of setup.
//!
//! What the engine does for every transport alike:
//! - reads messages and hands each to the router; the calls of a sync router answer at once,
//!   those of an async router run concurrently on the connection's task, at most
//!   [`Config::max_calls_in_flight`] at once and from messages of at most twice the message
//!   size in all. Past either bound the connection is not read: that is the backpressure;
//! - writes the answers of the messages read together with one flush, and the subscriptions'
//!   notifications (the [`Outbox`]) as they come;
//! - keeps the connection alive or closes it when quiet ([`Liveness`]);
//! - on the server's drain signal, answers what is in flight, reads nothing more but the
//!   answers to what it asked the peer, and writes what the peer handle queued; on its
//!   close signal, stops;
//! - closes a peer that takes nothing for the send timeout.
//!
//! It lives in this crate rather than in `rpc-core` because it needs a runtime: the time
//! limits, the write deadline and the liveness ticks are tokio's timers, and the drain and
//! close signals are the server's (`control`). `rpc-core` stays free of any runtime.

mod flight;
mod quiet;
mod run;
mod tasks;
mod write;

use std::io;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use rpc_core::{Dialect, ErrorObject, Note, Outbox, OutboxLimits, Peer, PeerSettings};

pub(crate) use run::run;

/// A connection's read buffer to begin with, and what an idle one holds: what one read takes
/// at most (a message's length is reserved at once when its framing tells it).
pub(crate) const READ_BUFFER: usize = 2 * 1024;

/// How much of the answers is gathered before it is written out.
pub(crate) const WRITE_OUT_AT: usize = 64 * 1024;

/// A buffer larger than this, once empty, is given back at the next liveness tick.
pub(crate) const KEEP_AT_MOST: usize = 64 * 1024;

/// The settings of one connection of the engine.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) max_calls_in_flight: usize,
    /// The largest message taken or sent, in bytes.
    pub(crate) max_message_size: usize,
    pub(crate) liveness: Liveness,
    /// How long one message's calls may take, as for an HTTP request.
    pub(crate) request_timeout: Option<Duration>,
    /// The longest a write to the peer may take.
    pub(crate) send_timeout: Duration,
    /// The bounds of the connection's subscriptions and their queue.
    pub(crate) outbox: OutboxLimits,
    /// The bounds of what the connection's calls ask its peer.
    pub(crate) peer: PeerSettings,
    /// The protocol's conventions for cancelling and progress, if any.
    pub(crate) dialect: Option<Dialect>,
    /// Whether a message may be a batch: a protocol may forbid them (MCP, since 2025-06-18).
    pub(crate) batches: bool,
    /// Once the peer has closed its side of a stream, how long the calls in flight may take
    /// before the connection ends anyway.
    pub(crate) eof_drain: Duration,
}

impl Config {
    /// A connection's outbox, within these bounds.
    pub(crate) fn outbox(&self) -> Outbox {
        Outbox::new(self.outbox.max_message_len(self.max_message_size))
    }

    /// A peer of its own for a connection (a client's), sending through a new outbox.
    #[cfg_attr(not(feature = "stream"), allow(dead_code))]
    pub(crate) fn own_peer(&self) -> Peer {
        Peer::new(self.outbox(), self.peer, tasks::sleep)
    }

    /// A client's peer: its ids taken from `ids` (shared with the client's own calls), and
    /// its outbox sending messages of any size (the message size bounds what is taken; the
    /// server bounds what it takes).
    #[cfg(all(feature = "ws", feature = "client"))]
    pub(crate) fn client_peer(&self, ids: std::sync::Arc<std::sync::atomic::AtomicU64>) -> Peer {
        let outbox = Outbox::new(self.outbox.max_message_len(usize::MAX));
        Peer::with_ids(outbox, self.peer, tasks::sleep, ids)
    }

    /// The defaults, with this liveness.
    pub(crate) fn new(liveness: Liveness) -> Self {
        Self {
            max_calls_in_flight: crate::DEFAULT_MAX_CALLS_IN_FLIGHT,
            max_message_size: crate::DEFAULT_MAX_BODY_SIZE,
            liveness,
            request_timeout: Some(crate::DEFAULT_REQUEST_TIMEOUT),
            send_timeout: crate::DEFAULT_SEND_TIMEOUT,
            outbox: OutboxLimits::default(),
            peer: PeerSettings::default(),
            dialect: None,
            batches: true,
            eof_drain: crate::DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

/// What the engine does with a quiet connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(all(feature = "ws", feature = "stream")), allow(dead_code))]
pub(crate) enum Liveness {
    /// Pings a connection that was quiet (nothing heard, no call running) for this long, and
    /// closes it when it stays quiet as long again: a WebSocket, whose peer answers pings.
    Ping(Duration),
    /// Closes a connection that was idle for this long: nothing read, no call running and no
    /// subscription alive (as the HTTP server's keep-alive timeout: between 1 and 1¼ times it).
    Idle(Duration),
    /// Never closes a quiet connection: stdio, whose other side is the process's parent.
    Forever,
}

/// What a transport read. (Each variant is read by one transport or the other: a build with
/// only one of them has some unused.)
#[derive(Debug)]
#[cfg_attr(not(all(feature = "ws", feature = "stream")), allow(dead_code))]
pub(crate) enum Incoming {
    /// One message: the text of one JSON value, for the router.
    Message(Bytes),
    /// Something for the transport alone (a WebSocket's control frame): the peer is alive.
    Heard,
    /// A message the framing refused but could skip (a line over the size limit): answered
    /// with this error and id `null`, and the connection goes on.
    Refused(ErrorObject),
}

/// What the engine writes through a transport.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Out<'a> {
    /// An answer: a response or a batch's responses, as JSON text.
    Answer(&'a [u8]),
    /// A subscription's notification.
    Note(&'a Note),
    /// A liveness probe (a WebSocket's ping); transports without one write nothing.
    Ping,
}

/// Why a connection ends: what its transport says in closing, if it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(all(feature = "ws", feature = "stream")), allow(dead_code))]
pub(crate) enum Ending {
    /// The server is shutting down.
    Away,
    /// A ping went unanswered.
    NoPong,
    /// The connection was idle for the idle timeout.
    Idle,
    /// The peer takes nothing: it is too slow to read.
    TooSlow(&'static str),
    /// A message over the size limit, where the framing cannot skip it.
    TooLarge,
    /// A text message that is not UTF-8, where the framing requires it.
    NotUtf8,
    /// The peer broke the framing: the reason, for the log (and a WebSocket's close frame).
    Violation(&'static str),
    /// The peer closed its side: the end of its messages.
    Eof,
    /// The connection broke, or the peer vanished: nothing can be said.
    Gone,
}

/// A message transport: the engine's only view of the connection's bytes.
///
/// Reading is [`Transport::poll_next`], which must be cancel-safe (a message half read stays
/// in the transport for the next call). Writing follows the `Sink` protocol: wait for
/// [`Transport::poll_ready`], [`Transport::start_send`] one message (exactly one frame of the
/// framing), and [`Transport::poll_flush`] to write out what was sent.
pub(crate) trait Transport: Unpin {
    /// Whether the end of the peer's messages is a half-close, after which the peer still
    /// reads the answers to what it sent (a byte stream: stdin closing), rather than the end
    /// of the connection (a WebSocket's close).
    const ANSWERS_AFTER_EOF: bool;

    /// The next message; `None` once the peer has closed its side.
    fn poll_next(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<Result<Incoming, Ending>>>;

    /// Ready to take a message (the write buffer has room, or has been written out).
    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>>;

    /// Queues one message.
    fn start_send(&mut self, out: Out<'_>) -> io::Result<()>;

    /// Writes out everything queued.
    fn poll_flush(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>>;

    /// Queues what the transport says in closing for `ending` (a WebSocket's close frame);
    /// [`Transport::poll_close`] writes it out and ends the writing side.
    fn start_close(&mut self, ending: Ending) -> io::Result<()>;

    /// Writes out what is queued and ends the writing side (a stream's shutdown).
    fn poll_close(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>>;

    /// Gives back the memory a burst took, once it is written: called now and then.
    fn shrink(&mut self) {}

    /// Whether requests sent on the connection by others than its peer handle await answers
    /// that the transport takes itself (a client's own calls): the connection is then read
    /// on with every call's place taken, as it is for the peer handle's requests.
    fn awaits_answers(&self) -> bool {
        false
    }

    /// Whether, once it has said its closing words, the connection reads and drops what the
    /// peer still sends until the peer closes (for a moment): a socket closed with unread
    /// bytes is reset, and the reset can destroy the last answers. Not for a stream whose
    /// reads cannot be stopped (stdin).
    fn lingers(&self) -> bool {
        true
    }
}

/// A transport borrowed: the engine runs on it, and its owner looks at it afterwards.
impl<T: Transport + ?Sized> Transport for &mut T {
    const ANSWERS_AFTER_EOF: bool = T::ANSWERS_AFTER_EOF;

    fn poll_next(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<Result<Incoming, Ending>>> {
        (**self).poll_next(cx)
    }

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        (**self).poll_ready(cx)
    }

    fn start_send(&mut self, out: Out<'_>) -> io::Result<()> {
        (**self).start_send(out)
    }

    fn poll_flush(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        (**self).poll_flush(cx)
    }

    fn start_close(&mut self, ending: Ending) -> io::Result<()> {
        (**self).start_close(ending)
    }

    fn poll_close(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        (**self).poll_close(cx)
    }

    fn shrink(&mut self) {
        (**self).shrink();
    }

    fn lingers(&self) -> bool {
        (**self).lingers()
    }

    fn awaits_answers(&self) -> bool {
        (**self).awaits_answers()
    }
}

/// The text of an answer with id `null` for a message the framing refused.
pub(crate) fn refusal(error: &ErrorObject) -> Vec<u8> {
    // An error object always serializes: its data is JSON text already.
    serde_json::to_vec(&rpc_core::Response::<()>::error(
        rpc_core::Id::NULL,
        error.clone(),
    ))
    .unwrap_or_default()
}
