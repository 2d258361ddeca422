//! One WebSocket connection: reading messages, running their calls concurrently within a
//! bound, writing the answers, and closing with the code RFC 6455 gives each ending.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use rpc_core::{Context, Router};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use super::Config;
use crate::control::{Control, SignalWatch, CLOSE};
use crate::http::Head;

/// How much of the answers is gathered before it is written out.
const WRITE_OUT_AT: usize = 64 * 1024;

/// Runs the WebSocket on `io` until it closes, the client goes away, or the server's signal
/// (under `serve`) says to drain or close.
pub(crate) async fn run<S, IO>(
    io: IO,
    router: Arc<Router<S>>,
    head: Head,
    config: Config,
    control: Option<Arc<Control>>,
) where
    S: Send + Sync + 'static,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let limits = WebSocketConfig::default()
        .max_message_size(Some(config.max_message_size))
        .max_frame_size(Some(config.max_message_size))
        // Answers wait in this buffer while the client reads slowly; past it, writing waits,
        // and while writing waits no message is read. (tungstenite insists on the bound being
        // above the size at which it writes out.)
        .write_buffer_size(WRITE_OUT_AT)
        .max_write_buffer_size(config.max_message_size.saturating_add(2 * WRITE_OUT_AT));
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(limits)).await;
    let cx = head.context();
    let router = &*router;
    let mut in_flight = FuturesUnordered::new();
    let mut signal = control.as_deref().map(SignalWatch::new);
    let mut draining = false;
    // Liveness: a tick per interval; a connection with no message in a whole interval is
    // pinged, and closed when the next interval brings nothing either. Counting messages
    // costs nothing per message; only the tick reads the clock.
    let interval = config
        .ping_interval
        .max(std::time::Duration::from_millis(10));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    let mut heard = true;
    let mut pinged = false;

    let ending = loop {
        let reading = !draining && in_flight.len() < config.max_calls_in_flight;
        tokio::select! {
            biased;
            level = wait(&mut signal), if !draining => {
                if level >= CLOSE {
                    break Some(away());
                }
                // Draining: answer what is in flight, read nothing more.
                draining = true;
            }
            _ = tick.tick(), if !draining => {
                if std::mem::take(&mut heard) {
                    pinged = false;
                } else if pinged {
                    tracing::debug!("a WebSocket did not answer a ping");
                    break Some(CloseFrame {
                        code: CloseCode::Away,
                        reason: Utf8Bytes::from_static("no answer to ping"),
                    });
                } else {
                    pinged = true;
                    if ws.send(Message::Ping(Bytes::new())).await.is_err() {
                        break None;
                    }
                }
            }
            Some(answer) = in_flight.next(), if !in_flight.is_empty() => {
                if let Err(err) = send(&mut ws, answer).await {
                    tracing::debug!(error = %err, "writing to a WebSocket failed");
                    break None;
                }
            }
            message = ws.next(), if reading => match message.inspect(|_| heard = true) {
                None => break None,
                Some(Ok(Message::Text(text))) => {
                    let body = Bytes::from(text);
                    if let Some(answer) = answer_now(router, &body, &cx) {
                        if send(&mut ws, answer).await.is_err() {
                            break None;
                        }
                    } else {
                        in_flight.push(answer_later(router, body, &cx));
                    }
                }
                Some(Ok(Message::Binary(body))) => {
                    if let Some(answer) = answer_now(router, &body, &cx) {
                        if send(&mut ws, answer).await.is_err() {
                            break None;
                        }
                    } else {
                        in_flight.push(answer_later(router, body, &cx));
                    }
                }
                // Pings are answered by the protocol layer on the next write or flush.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
                    if ws.flush().await.is_err() {
                        break None;
                    }
                }
                // The client's close is answered by the protocol layer; reading then ends.
                Some(Ok(Message::Close(_))) => {}
                Some(Err(err)) => break closing(&err),
            },
            else => {
                // Draining with nothing left in flight.
                break Some(away());
            }
        }
    };
    if let Some(frame) = ending {
        let _ = ws.close(Some(frame)).await;
    }
}

/// A body's answer, if it can be had without waiting: for a router whose methods are all
/// sync. `Some(None)` is nothing to answer.
fn answer_now<S: Send + Sync + 'static>(
    router: &Router<S>,
    body: &[u8],
    cx: &Context<'_>,
) -> Option<Option<Vec<u8>>> {
    router.handle_sync_with(body, cx).ok()
}

/// A body's answer, from a router with async methods: one future type for every message, so
/// the set of calls in flight holds them without a box each.
async fn answer_later<S: Send + Sync + 'static>(
    router: &Router<S>,
    body: Bytes,
    cx: &Context<'_>,
) -> Option<Vec<u8>> {
    router.handle_with(&body, cx).await
}

/// Writes an answer as a text frame; nothing is written for nothing to answer.
async fn send<IO: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<IO>,
    answer: Option<Vec<u8>>,
) -> Result<(), WsError> {
    let Some(answer) = answer else { return Ok(()) };
    // The dispatcher writes JSON, which is UTF-8; checked all the same, as the type asks.
    let Ok(text) = Utf8Bytes::try_from(answer) else {
        tracing::error!("an answer that is not UTF-8 was not sent");
        return Ok(());
    };
    ws.send(Message::Text(text)).await
}

/// Waits for the server's next signal; never, outside `serve`.
async fn wait(signal: &mut Option<SignalWatch<'_>>) -> u8 {
    match signal {
        Some(signal) => signal.await,
        None => std::future::pending().await,
    }
}

/// The close frame for the server going away (1001).
fn away() -> CloseFrame {
    CloseFrame {
        code: CloseCode::Away,
        reason: Utf8Bytes::from_static("the server is shutting down"),
    }
}

/// How a connection that failed is closed: 1009 for a message over the limit, 1007 for a
/// text frame that is not UTF-8, 1002 for a protocol violation; a connection that broke is
/// not closed in words.
fn closing(err: &WsError) -> Option<CloseFrame> {
    let (code, reason) = match err {
        WsError::Capacity(CapacityError::MessageTooLong { .. }) => {
            (CloseCode::Size, "message too large")
        }
        WsError::Utf8(_) => (CloseCode::Invalid, "text frame not UTF-8"),
        WsError::Protocol(_) => (CloseCode::Protocol, "protocol violation"),
        _ => {
            tracing::debug!(error = %err, "a WebSocket broke");
            return None;
        }
    };
    tracing::debug!(error = %err, "closing a WebSocket");
    Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    })
}
