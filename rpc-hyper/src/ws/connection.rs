//! One WebSocket connection: reading messages, running their calls concurrently within a
//! bound, writing the answers, and closing with the code RFC 6455 gives each ending.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use rpc_core::{Context, Router};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
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
        // Every answer is written out before the next is taken (each write is awaited, within
        // the write deadline), so the buffer never holds more than one: it needs no bound of
        // its own, and a bound would drop a batch's answer larger than one message.
        .write_buffer_size(WRITE_OUT_AT)
        .max_write_buffer_size(usize::MAX);
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(limits)).await;
    let cx = head.context();
    let router = &*router;
    let mut in_flight = FuturesUnordered::new();
    // The bytes of the messages whose calls are running: bounded too, so that 64 messages of
    // the largest size do not sit in memory at once.
    let mut in_flight_bytes = 0usize;
    let byte_budget = config.max_message_size.saturating_mul(2);
    let mut signal = control.as_deref().map(SignalWatch::new);
    let mut draining = false;
    // Liveness: a tick per interval; a connection with nothing heard in a whole interval
    // (and no call of its own running) is pinged, and closed when the next interval brings
    // nothing either. A flag per message, and the clock only at the tick.
    let interval = config
        .ping_interval
        .max(std::time::Duration::from_millis(10));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heard = true;
    let mut pinged = false;
    // A client that takes no frame for this long is gone: its connection is dropped.
    let deadline = interval;

    let ending = loop {
        if draining && in_flight.is_empty() {
            break Some(away());
        }
        let reading = !draining
            && in_flight.len() < config.max_calls_in_flight
            && in_flight_bytes < byte_budget;
        tokio::select! {
            biased;
            level = wait(&mut signal) => {
                if level >= CLOSE {
                    break Some(away());
                }
                // Draining: answer what is in flight, read nothing more.
                draining = true;
            }
            _ = tick.tick(), if !draining => {
                if std::mem::take(&mut heard) || !in_flight.is_empty() {
                    pinged = false;
                } else if pinged {
                    tracing::debug!("a WebSocket did not answer a ping");
                    break Some(CloseFrame {
                        code: CloseCode::Away,
                        reason: Utf8Bytes::from_static("no answer to ping"),
                    });
                } else {
                    pinged = true;
                    if write(&mut ws, Message::Ping(Bytes::new()), deadline).await.is_err() {
                        break None;
                    }
                }
            }
            Some((len, answer)) = in_flight.next(), if !in_flight.is_empty() => {
                in_flight_bytes = in_flight_bytes.saturating_sub(len);
                if send(&mut ws, answer, deadline).await.is_err() {
                    break None;
                }
            }
            message = ws.next(), if reading => match message.inspect(|_| heard = true) {
                None => break None,
                // Text and binary frames alike hold a body; answers go out as text.
                Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                    let body = message.into_data();
                    if let Some(answer) = answer_now(router, &body, &cx) {
                        if send(&mut ws, answer, deadline).await.is_err() {
                            break None;
                        }
                    } else {
                        in_flight_bytes = in_flight_bytes.saturating_add(body.len());
                        in_flight.push(answer_later(router, body, &cx, config.request_timeout));
                    }
                }
                // Pings are answered by the protocol layer on the next write or flush.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
                    let flushed = tokio::time::timeout(deadline, ws.flush()).await;
                    if !matches!(flushed, Ok(Ok(()))) {
                        break None;
                    }
                }
                // The client's close is answered by the protocol layer; reading then ends.
                Some(Ok(Message::Close(_))) => {}
                Some(Err(err)) => break closing(&err),
            },
            else => break None,
        }
    };
    if let Some(frame) = ending {
        // Close gently: after the close frame, what the client still sends is read and
        // dropped for a moment (its own close ends it). Dropped with unread bytes, the socket
        // would be reset, and the reset can destroy the close frame before the client reads it.
        let closed = async {
            ws.close(Some(frame)).await.ok()?;
            while let Some(Ok(_)) = ws.next().await {}
            Some(())
        };
        let _ = tokio::time::timeout(deadline.min(LINGER), closed).await;
    }
}

/// The most time a closing connection waits for its client's close.
const LINGER: std::time::Duration = std::time::Duration::from_secs(1);

/// A body's answer, if it can be had without waiting: for a router whose methods are all
/// sync. `Some(None)` is nothing to answer.
fn answer_now<S: Send + Sync + 'static>(
    router: &Router<S>,
    body: &[u8],
    cx: &Context<'_>,
) -> Option<Option<Vec<u8>>> {
    router.handle_sync_with(body, cx).ok()
}

/// A body's answer, from a router with async methods, with the body's length: one future type
/// for every message, so the set of calls in flight holds them without a box each.
async fn answer_later<S: Send + Sync + 'static>(
    router: &Router<S>,
    body: Bytes,
    cx: &Context<'_>,
    limit: Option<std::time::Duration>,
) -> (usize, Option<Vec<u8>>) {
    let len = body.len();
    let Some(limit) = limit else {
        return (len, router.handle_with(&body, cx).await);
    };
    match tokio::time::timeout(limit, router.handle_with(&body, cx)).await {
        Ok(answer) => (len, answer),
        Err(_) => {
            tracing::warn!(
                limit_ms = limit.as_millis(),
                "a WebSocket message timed out; its work is dropped"
            );
            let error =
                rpc_core::ErrorObject::server_error(crate::TIMEOUT_ERROR_CODE, "Request timed out");
            (len, router.reject(&body, &error))
        }
    }
}

/// Writes an answer as a text frame; nothing is written for nothing to answer.
async fn send<IO: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<IO>,
    answer: Option<Vec<u8>>,
    deadline: std::time::Duration,
) -> Result<(), ()> {
    let Some(answer) = answer else { return Ok(()) };
    // The dispatcher writes JSON, which is UTF-8; checked all the same, as the type asks.
    let Ok(text) = Utf8Bytes::try_from(answer) else {
        tracing::error!("an answer that is not UTF-8 was not sent");
        return Ok(());
    };
    write(ws, Message::Text(text), deadline).await
}

/// Writes a frame out, within `deadline`: a client that takes nothing for that long (it
/// sends without reading, or is gone) is not waited for.
async fn write<IO: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<IO>,
    message: Message,
    deadline: std::time::Duration,
) -> Result<(), ()> {
    match tokio::time::timeout(deadline, ws.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "writing to a WebSocket failed");
            Err(())
        }
        Err(_) => {
            tracing::debug!("a WebSocket client took no frame in time; dropped");
            Err(())
        }
    }
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
        // A client that vanished without a close is gone, not at fault: nothing to say.
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            tracing::debug!(error = %err, "a WebSocket client vanished");
            return None;
        }
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
