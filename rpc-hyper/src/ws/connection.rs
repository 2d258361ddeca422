//! One WebSocket connection: reading messages, running their calls concurrently within a
//! bound, writing the answers, and closing with the code RFC 6455 gives each ending.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, SinkExt, StreamExt};
use rpc_core::{Context, Handled, Note, Outbox, Router, Subscription, Taken};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use super::send::{feed, outcome, send, too_slow, write, write_notes};
use super::Config;
use crate::control::{Control, SignalWatch, CLOSE};
use crate::http::Head;

/// How much of the answers is gathered before it is written out.
const WRITE_OUT_AT: usize = 64 * 1024;

/// The read buffer's size: what one read takes at most.
const READ_BUFFER: usize = 2 * 1024;

/// The most messages handled (their answers written) before one flush.
const MESSAGES_PER_FLUSH: usize = 64;

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
        // tungstenite's read buffer is allocated at once and zeroed up to its size before each
        // read: 128 KiB by default, which every idle connection would hold. A small one costs
        // a few more reads for a large message only (a frame's length is reserved at once).
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(config.max_message_size))
        .max_frame_size(Some(config.max_message_size))
        // Every answer is written out before the next is taken (each write is awaited, within
        // the write deadline), so the buffer never holds more than one: it needs no bound of
        // its own, and a bound would drop a batch's answer larger than one message.
        .write_buffer_size(WRITE_OUT_AT)
        .max_write_buffer_size(usize::MAX);
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(limits)).await;
    // An outbox only for a router with subscriptions: plain calls need none.
    let outbox = router
        .has_subscriptions()
        .then(|| Outbox::new(config.outbox.max_message_len(config.max_message_size)));
    let cx = match &outbox {
        Some(outbox) => head.context().with_outbox(outbox),
        None => head.context(),
    };
    let router = &*router;
    // The async calls running; made at the first, since an empty set costs a future's size.
    let mut in_flight = None;
    // The subscriptions started here run on the connection's task, like its calls, and
    // borrow the router and the context as they do. Made at the first.
    let mut subscriptions: Option<FuturesUnordered<Subscription<'_>>> = None;
    // Notifications taken from the outbox, and the buffer each is framed in (reused).
    let mut notes: Vec<Note> = Vec::new();
    let mut frame = BytesMut::new();
    // Subscriptions started by the messages being handled, driven once their answers are out.
    let mut started_now = Vec::new();
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
    // A client that takes no frame for this long is too slow: it is disconnected (1008).
    let deadline = config.send_timeout;

    let ending = loop {
        if draining && running(&in_flight) == 0 {
            break Some(away());
        }
        let reading = !draining
            && running(&in_flight) < config.max_calls_in_flight
            && in_flight_bytes < byte_budget;
        tokio::select! {
            biased;
            level = wait(&mut signal) => {
                if level >= CLOSE {
                    break Some(away());
                }
                // Draining: answer what is in flight, read nothing more. Subscriptions end
                // at once: an endless one must not hold the drain.
                draining = true;
                if let Some(outbox) = &outbox {
                    outbox.close();
                }
                subscriptions = None;
            }
            _ = tick.tick(), if !draining => {
                // Give back what a burst took, once it is written.
                if let Some(outbox) = &outbox {
                    outbox.shrink();
                }
                shrink(&mut notes, &mut frame);
                if std::mem::take(&mut heard) || running(&in_flight) > 0 {
                    pinged = false;
                } else if pinged {
                    tracing::debug!("a WebSocket did not answer a ping");
                    break Some(CloseFrame {
                        code: CloseCode::Away,
                        reason: Utf8Bytes::from_static("no answer to ping"),
                    });
                } else {
                    pinged = true;
                    if let Err(stop) = write(&mut ws, Message::Ping(Bytes::new()), deadline).await {
                        break stop.frame();
                    }
                }
            }
            taken = take(outbox.as_ref(), &mut notes), if outbox.is_some() => {
                if taken == Taken::Lagged {
                    break Some(too_slow("a subscription's queue overflowed"));
                }
                if let Err(stop) = write_notes(&mut ws, &mut notes, &mut frame, deadline).await {
                    break stop.frame();
                }
            }
            Some(()) = next_answer(&mut subscriptions), if running(&subscriptions) > 0 => {}
            Some((len, response, started)) = next_answer(&mut in_flight), if running(&in_flight) > 0 => {
                in_flight_bytes = in_flight_bytes.saturating_sub(len);
                if let Err(stop) = send(&mut ws, &mut frame, response, deadline).await {
                    break stop.frame();
                }
                drive(&mut subscriptions, started);
            }
            message = ws.next(), if reading => {
                // The messages that are here already are handled together, and their answers
                // flushed once: one write for many calls, not one each.
                let mut message = message;
                let mut more = MESSAGES_PER_FLUSH;
                let stop = loop {
                    heard = true;
                    match message {
                        None => break Some(None),
                        // Text and binary frames alike hold a body; answers go out as text.
                        Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                            let body = message.into_data();
                            if let Ok(handled) = router.handle_sync_push(&body, &cx) {
                                let Handled { response, subscriptions: started, .. } = handled;
                                if let Err(stop) = feed(&mut ws, &mut frame, response, deadline).await {
                                    break Some(stop.frame());
                                }
                                // Driven only once the answer is flushed: it goes first.
                                started_now.extend(started);
                            } else {
                                in_flight_bytes = in_flight_bytes.saturating_add(body.len());
                                in_flight
                                    .get_or_insert_with(FuturesUnordered::new)
                                    .push(answer_later(router, body, &cx, config.request_timeout));
                            }
                        }
                        // Pings are answered by the protocol layer on the next flush.
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                        // The client's close is answered by the protocol layer; reading ends.
                        Some(Ok(Message::Close(_))) => {}
                        Some(Err(err)) => break Some(closing(&err)),
                    }
                    more -= 1;
                    let room = running(&in_flight) < config.max_calls_in_flight
                        && in_flight_bytes < byte_budget;
                    if more == 0 || !room {
                        break None;
                    }
                    match ws.next().now_or_never() {
                        Some(next) => message = next,
                        None => break None,
                    }
                };
                if let Some(stop) = stop {
                    // Closing: a write that stalled is not waited for a second time.
                    break stop;
                }
                let flushed = tokio::time::timeout(deadline, ws.flush()).await;
                drive(&mut subscriptions, started_now.drain(..));
                if let Err(stop) = outcome(flushed) {
                    break stop.frame();
                }
            }
            else => break None,
        }
    };
    // The subscriptions end with the connection; sinks held elsewhere see it closed.
    if let Some(outbox) = &outbox {
        outbox.close();
    }
    drop(subscriptions);
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

/// A body's answer, from a router with async methods, with the body's length: one future type
/// for every message, so the set of calls in flight holds them without a box each.
async fn answer_later<'r, S: Send + Sync + 'static>(
    router: &'r Router<S>,
    body: Bytes,
    cx: &'r Context<'r>,
    limit: Option<std::time::Duration>,
) -> (usize, Option<Vec<u8>>, Vec<Subscription<'r>>) {
    let len = body.len();
    let handling = router.handle_push(&body, cx);
    let handled = match limit {
        None => handling.await,
        Some(limit) => match tokio::time::timeout(limit, handling).await {
            Ok(handled) => handled,
            Err(_) => {
                tracing::warn!(
                    limit_ms = limit.as_millis(),
                    "a WebSocket message timed out; its work is dropped"
                );
                let error = rpc_core::ErrorObject::server_error(
                    crate::TIMEOUT_ERROR_CODE,
                    "Request timed out",
                );
                return (len, router.reject(&body, &error), Vec::new());
            }
        },
    };
    (len, handled.response, handled.subscriptions)
}

/// Drives `started` from now on, with the connection's other subscriptions.
fn drive<'r>(
    subscriptions: &mut Option<FuturesUnordered<Subscription<'r>>>,
    started: impl IntoIterator<Item = Subscription<'r>>,
) {
    let mut started = started.into_iter().peekable();
    if started.peek().is_some() {
        subscriptions
            .get_or_insert_with(FuturesUnordered::new)
            .extend(started);
    }
}

/// What the outbox has to write; never, without one.
async fn take(outbox: Option<&Outbox>, notes: &mut Vec<Note>) -> Taken {
    match outbox {
        Some(outbox) => std::future::poll_fn(|task| outbox.poll_take(task, notes)).await,
        None => std::future::pending().await,
    }
}

/// Gives back the memory of a burst: the list of notes taken and the frame buffer.
fn shrink(notes: &mut Vec<Note>, frame: &mut BytesMut) {
    if notes.is_empty() && notes.capacity() > 64 {
        *notes = Vec::new();
    }
    if frame.is_empty() && frame.capacity() > 64 * 1024 {
        *frame = BytesMut::new();
    }
}

/// How many async calls are running.
fn running<F>(in_flight: &Option<FuturesUnordered<F>>) -> usize {
    in_flight.as_ref().map_or(0, FuturesUnordered::len)
}

/// The next answer of an async call; never, with none running.
async fn next_answer<F: std::future::Future>(
    in_flight: &mut Option<FuturesUnordered<F>>,
) -> Option<F::Output> {
    match in_flight {
        Some(in_flight) => in_flight.next().await,
        None => std::future::pending().await,
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
