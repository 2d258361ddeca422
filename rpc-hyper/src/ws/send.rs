//! Writing to a WebSocket: answers and notifications as text frames, each write within the
//! send timeout, and what a stalled write means.

use bytes::BytesMut;
use futures_util::SinkExt;
use rpc_core::Note;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// Why writing stopped.
pub(super) enum Stop {
    /// The connection broke: nothing more can be said.
    Broken,
    /// The client took nothing for the send timeout.
    Stalled,
}

impl Stop {
    /// The close frame to attempt.
    pub(super) fn frame(self) -> Option<CloseFrame> {
        match self {
            Stop::Broken => None,
            Stop::Stalled => Some(too_slow("too slow to read")),
        }
    }
}

/// Writes an answer as a text frame, and flushes; nothing is written for nothing to answer.
pub(super) async fn send<IO: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<IO>,
    frame: &mut BytesMut,
    answer: Option<Vec<u8>>,
    deadline: std::time::Duration,
) -> Result<(), Stop> {
    feed(ws, frame, answer, deadline).await?;
    outcome(tokio::time::timeout(deadline, ws.flush()).await)
}

/// Queues an answer as a text frame (written once the buffer fills, or at the next flush).
/// It is copied into `frame`, whose memory comes back once written: no allocation per answer.
pub(super) async fn feed<IO: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<IO>,
    frame: &mut BytesMut,
    answer: Option<Vec<u8>>,
    deadline: std::time::Duration,
) -> Result<(), Stop> {
    let Some(answer) = answer else { return Ok(()) };
    frame.extend_from_slice(&answer);
    drop(answer);
    // The dispatcher writes JSON, which is UTF-8; checked all the same, as the type asks.
    let Ok(text) = Utf8Bytes::try_from(frame.split().freeze()) else {
        tracing::error!("an answer that is not UTF-8 was not sent");
        return Ok(());
    };
    outcome(tokio::time::timeout(deadline, ws.feed(Message::Text(text))).await)
}

/// Writes the notifications taken from the outbox, one text frame each, and flushes once.
/// Each is framed in `frame`, whose memory comes back once the frame is written.
pub(super) async fn write_notes<IO: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<IO>,
    notes: &mut Vec<Note>,
    frame: &mut BytesMut,
    deadline: std::time::Duration,
) -> Result<(), Stop> {
    let writing = async {
        for note in notes.drain(..) {
            frame.reserve(note.len());
            for part in note.parts() {
                frame.extend_from_slice(part);
            }
            // JSON text is UTF-8; a note that is not would be dropped, not sent.
            let Ok(text) = Utf8Bytes::try_from(frame.split().freeze()) else {
                tracing::error!("a notification that is not UTF-8 was not sent");
                continue;
            };
            ws.feed(Message::Text(text)).await?;
        }
        ws.flush().await
    };
    let written = tokio::time::timeout(deadline, writing).await;
    notes.clear();
    outcome(written)
}

/// Writes a frame out, within `deadline`: a client that takes nothing for that long (it
/// sends without reading, or is gone) is not waited for.
pub(super) async fn write<IO: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<IO>,
    message: Message,
    deadline: std::time::Duration,
) -> Result<(), Stop> {
    outcome(tokio::time::timeout(deadline, ws.send(message)).await)
}

pub(super) fn outcome(
    written: Result<Result<(), WsError>, tokio::time::error::Elapsed>,
) -> Result<(), Stop> {
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "writing to a WebSocket failed");
            Err(Stop::Broken)
        }
        Err(_) => {
            tracing::debug!("a WebSocket client took no frame in time; disconnected");
            Err(Stop::Stalled)
        }
    }
}

/// The close frame for a client too slow to read (1008).
pub(super) fn too_slow(reason: &'static str) -> CloseFrame {
    CloseFrame {
        code: CloseCode::Policy,
        reason: Utf8Bytes::from_static(reason),
    }
}
