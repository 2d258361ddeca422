//! One WebSocket connection: its messages as the engine's transport, and the close codes
//! RFC 6455 gives each ending.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::{Sink, Stream};
use rpc_core::Router;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use super::Config;
use crate::control::Control;
use crate::engine::{
    self, Ending, Incoming, Out, Transport, KEEP_AT_MOST, READ_BUFFER, WRITE_OUT_AT,
};
use crate::head::Head;

/// Runs the WebSocket on `io` until it closes, the client goes away, or the server's signal
/// (under `serve`) says to drain or close.
pub(crate) async fn run<S, IO>(
    io: IO,
    router: std::sync::Arc<Router<S>>,
    head: Head,
    config: Config,
    control: Option<std::sync::Arc<Control>>,
) where
    S: Send + Sync + 'static,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let limits = WebSocketConfig::default()
        // tungstenite's read buffer is allocated at once and zeroed up to its size before each
        // read: 128 KiB by default, which every idle connection would hold. A small one costs
        // a few more reads for a large message only (a frame's length is reserved at once).
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(config.engine.max_message_size))
        .max_frame_size(Some(config.engine.max_message_size))
        // Every answer is written out before the next is taken (each write is awaited, within
        // the write deadline), so the buffer never holds more than one: it needs no bound of
        // its own, and a bound would drop a batch's answer larger than one message.
        .write_buffer_size(WRITE_OUT_AT)
        .max_write_buffer_size(usize::MAX);
    let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(limits)).await;
    engine::run(
        Frames::new(ws),
        &router,
        head.context(),
        &config.engine,
        control,
        None,
    )
    .await;
}

/// A WebSocket as the engine's transport, on either side: a message is a text or binary
/// frame; answers go out as text frames, each framed in one reused buffer.
pub(crate) struct Frames<IO> {
    ws: WebSocketStream<IO>,
    /// The buffer each answer and notification is framed in: its memory comes back once the
    /// frame is written, so there is no allocation per message.
    frame: BytesMut,
    /// The code and reason of the peer's close frame, once it came.
    closed_with: Option<String>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Frames<IO> {
    pub(crate) fn new(ws: WebSocketStream<IO>) -> Self {
        Self {
            ws,
            frame: BytesMut::new(),
            closed_with: None,
        }
    }

    /// What the peer's close frame said (its code and reason), if it came.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn closed_with(&self) -> Option<&str> {
        self.closed_with.as_deref()
    }

    fn send_frame(&mut self, message: Message) -> io::Result<()> {
        Pin::new(&mut self.ws).start_send(message).map_err(io_error)
    }

    /// The framed text, as a text frame; JSON is UTF-8, but the type asks, so it is checked.
    fn send_text(&mut self, what: &str) -> io::Result<()> {
        let Ok(text) = Utf8Bytes::try_from(self.frame.split().freeze()) else {
            tracing::error!(what, "a message that is not UTF-8 was not sent");
            return Ok(());
        };
        self.send_frame(Message::Text(text))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Transport for Frames<IO> {
    // A client's close frame ends the connection: nothing more can be written after it.
    const ANSWERS_AFTER_EOF: bool = false;

    fn poll_next(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<Result<Incoming, Ending>>> {
        let incoming = match ready!(Pin::new(&mut self.ws).poll_next(cx)) {
            None => return Poll::Ready(None),
            // Text and binary frames alike hold a body; answers go out as text.
            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                Ok(Incoming::Message(message.into_data()))
            }
            // Pings are answered by the protocol layer on the next flush; the peer's close
            // too, and reading then ends.
            Some(Ok(Message::Close(frame))) => {
                self.closed_with = Some(frame.map_or_else(
                    || "closed".to_owned(),
                    |f| format!("closed: {} {}", u16::from(f.code), f.reason),
                ));
                Ok(Incoming::Heard)
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
                Ok(Incoming::Heard)
            }
            Some(Err(err)) => Err(ending(&err)),
        };
        Poll::Ready(Some(incoming))
    }

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.ws).poll_ready(cx).map_err(io_error)
    }

    fn start_send(&mut self, out: Out<'_>) -> io::Result<()> {
        match out {
            Out::Answer(answer) => {
                self.frame.extend_from_slice(answer);
                self.send_text("answer")
            }
            Out::Note(note) => {
                self.frame.reserve(note.len());
                for part in note.parts() {
                    self.frame.extend_from_slice(part);
                }
                self.send_text("notification")
            }
            Out::Ping => self.send_frame(Message::Ping(Bytes::new())),
        }
    }

    fn poll_flush(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.ws).poll_flush(cx).map_err(io_error)
    }

    fn start_close(&mut self, ending: Ending) -> io::Result<()> {
        match close_frame(ending) {
            Some(frame) => self.send_frame(Message::Close(Some(frame))),
            None => Ok(()),
        }
    }

    fn poll_close(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        // The close frame is written; the client's own close ends the reading.
        self.poll_flush(cx)
    }

    fn shrink(&mut self) {
        if self.frame.is_empty() && self.frame.capacity() > KEEP_AT_MOST {
            self.frame = BytesMut::new();
        }
    }
}

fn io_error(err: WsError) -> io::Error {
    match err {
        WsError::Io(err) => err,
        err => io::Error::other(err),
    }
}

/// The close frame for an ending: 1001 for the side going away or a ping unanswered,
/// 1008 for a client too slow to read, 1009 for a message over the limit, 1007 for a text
/// frame that is not UTF-8, 1002 for a protocol violation.
fn close_frame(ending: Ending) -> Option<CloseFrame> {
    let (code, reason) = match ending {
        // A server shutting down, or a client whose every handle is gone.
        Ending::Away => (CloseCode::Away, "going away"),
        Ending::NoPong => (CloseCode::Away, "no answer to ping"),
        Ending::Idle => (CloseCode::Away, "idle"),
        Ending::TooSlow(reason) => (CloseCode::Policy, reason),
        Ending::TooLarge => (CloseCode::Size, "message too large"),
        Ending::NotUtf8 => (CloseCode::Invalid, "text frame not UTF-8"),
        Ending::Violation(reason) => (CloseCode::Protocol, reason),
        Ending::Eof | Ending::Gone => return None,
    };
    Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    })
}

/// How a connection that failed ends: a connection that broke is not closed in words.
fn ending(err: &WsError) -> Ending {
    let ending = match err {
        WsError::Capacity(CapacityError::MessageTooLong { .. }) => Ending::TooLarge,
        WsError::Utf8(_) => Ending::NotUtf8,
        // A client that vanished without a close is gone, not at fault: nothing to say.
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            tracing::debug!(error = %err, "a WebSocket client vanished");
            return Ending::Gone;
        }
        WsError::Protocol(_) => Ending::Violation("protocol violation"),
        _ => {
            tracing::debug!(error = %err, "a WebSocket broke");
            return Ending::Gone;
        }
    };
    tracing::debug!(error = %err, "closing a WebSocket");
    ending
}
