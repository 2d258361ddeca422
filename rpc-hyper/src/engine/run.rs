//! The engine's loop: reading messages, running their calls concurrently within a bound,
//! writing the answers and notifications, liveness, drain and close.

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::FutureExt;
use rpc_core::{
    Cancellation, Context, ErrorObject, Handled, Note, Peer, Router, Subscription, Taken,
};

use super::flight::{Flight, Started};
use super::quiet::Quiet;
use super::tasks::{
    answer_later, begin, drive, is_batch, next_answer, no_batches, running, sleep, take, wait,
};
use super::write::{feed, flush, outcome, send, write, write_notes};
use super::{refusal, Config, Ending, Incoming, Out, Transport};
use crate::control::{Control, SignalWatch, CLOSE};

/// The most messages handled (their answers written) before one flush.
const MESSAGES_PER_FLUSH: usize = 64;

/// The most time a closing connection waits for its peer to close its side.
const LINGER: Duration = Duration::from_secs(1);

/// Runs one connection on `transport` until the peer goes away, the connection fails, or the
/// server's signal (under a server: `control`) says to drain or close. `cx` is what every call
/// of the connection knows of where it came from. `own` is a peer made beforehand, whose
/// handle is held elsewhere (a client's): the connection then sends through it and routes the
/// answers to it, whatever the router. Resolves with how the connection ended.
pub(crate) async fn run<S, T>(
    mut transport: T,
    router: &Router<S>,
    cx: Context<'_>,
    config: &Config,
    control: Option<Arc<Control>>,
    own: Option<Peer>,
) -> Ending
where
    S: Send + Sync + 'static,
    T: Transport,
{
    // An outbox only for a router with subscriptions or methods that call back, or for a
    // peer of its own: plain calls need none. A peer only for the latter two.
    let outbox = match &own {
        Some(peer) => Some(peer.outbox().clone()),
        None => (router.has_subscriptions() || router.uses_peer()).then(|| config.outbox()),
    };
    let peer = own.or_else(|| {
        let outbox = outbox.as_ref().filter(|_| router.uses_peer())?;
        Some(Peer::new(outbox.clone(), config.peer, sleep))
    });
    let cx = match &outbox {
        Some(outbox) => cx.with_outbox(outbox),
        None => cx,
    };
    let cx = match &peer {
        Some(peer) => cx.with_peer_handle(peer),
        None => cx,
    };
    // Where the caller may cancel its calls, in the protocol's style (async calls only: a
    // sync call has answered before a cancel can be read).
    let cancellation = config
        .dialect
        .filter(|_| !router.is_sync())
        .map(Cancellation::new);
    let cx = match &cancellation {
        Some(cancellation) => cx.with_cancellation(cancellation),
        None => cx,
    };
    let cx = &cx;
    let later = |body, barrier| answer_later(router, body, cx, config.request_timeout, barrier);
    // At most twice the message size in the messages running, and as much parked.
    let mut flight = Flight::new(
        config.max_calls_in_flight,
        config.max_message_size.saturating_mul(2),
    );
    // The subscriptions started here run on the connection's task, like its calls, and
    // borrow the router and the context as they do. Made at the first.
    let mut subscriptions: Option<FuturesUnordered<Subscription<'_>>> = None;
    // Notifications taken from the outbox.
    let mut notes: Vec<Note> = Vec::new();
    // Subscriptions started by the messages being handled, driven once their answers are out.
    let mut started_now = Vec::new();
    let mut signal = control.as_deref().map(SignalWatch::new);
    let mut draining = false;
    // Once the peer closed its side of a stream: when the calls in flight are given up on.
    let mut eof_deadline: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    // The peer closed its side of a stream: the connection ends once what it asked is answered.
    let mut peer_closed = false;
    // Liveness: a tick per period; a flag per message, and the clock only at the tick.
    let quiet = Quiet::new(config.liveness);
    let mut tick =
        tokio::time::interval_at(tokio::time::Instant::now() + quiet.period, quiet.period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heard = true;
    let mut quiet_ticks = 0u32;
    // A peer that takes nothing for this long is too slow: it is disconnected.
    let deadline = config.send_timeout;

    let ending = 'run: loop {
        // Parked messages start first, in the order they came, as room allows.
        let mut released = false;
        while let Some(body) = flight.release() {
            let begun = begin(router, &body, cx, flight.running() == 0);
            match flight.start(body, begun, true, later) {
                Started::Done(Handled {
                    response,
                    subscriptions: started,
                    ..
                }) => {
                    if let Err(stop) = feed(&mut transport, response, deadline).await {
                        break 'run stop.ending();
                    }
                    started_now.extend(started);
                    released = true;
                }
                Started::Running => {}
                Started::Parked => break,
            }
        }
        if released {
            let flushed = tokio::time::timeout(deadline, flush(&mut transport)).await;
            if let Err(stop) = outcome(flushed) {
                break stop.ending();
            }
            drive(&mut subscriptions, started_now.drain(..));
        }
        // Drained once every call has answered and, unless nothing more can be read, every
        // request sent to the peer has its answer (within the drain timeout): until then the
        // signal's branch also waits for the last answer.
        let asking = draining
            && !peer_closed
            && peer
                .as_ref()
                .is_some_and(|peer| peer.requests_in_flight() > 0);
        if draining && flight.running() == 0 && !flight.has_parked() && !asking {
            // What was sent to the peer last still goes.
            if let Some(taken) = take(outbox.as_ref(), &mut notes).now_or_never() {
                if taken == Taken::Notes {
                    if let Err(stop) = write_notes(&mut transport, &mut notes, deadline).await {
                        break stop.ending();
                    }
                }
            }
            break if peer_closed {
                Ending::Eof
            } else {
                Ending::Away
            };
        }
        // A call awaits the peer's answer, or may be cancelled: read on, to find the answer or
        // the cancel, within the bounds.
        let awaiting = (peer
            .as_ref()
            .is_some_and(|peer| peer.requests_in_flight() > 0)
            || transport.awaits_answers()
            || (cancellation.is_some() && flight.running() > 0))
            && !peer_closed
            && !flight.parked_full();
        // Whether what is read starts now (or, if not, is parked).
        let direct = flight.room() && !draining;
        let reading = direct || awaiting;
        tokio::select! {
            biased;
            level = wait(&mut signal, peer.as_ref().filter(|_| asking), eof_deadline.as_mut()) => {
                let Some(level) = level else {
                    // The peer's last answer came (or its request was given up on).
                    continue;
                };
                if level >= CLOSE {
                    break Ending::Away;
                }
                // Draining: answer what is in flight, read nothing more but the answers to
                // what was asked of the peer. Subscriptions end at once: an endless one must
                // not hold the drain.
                draining = true;
                if let Some(outbox) = &outbox {
                    outbox.end_subscriptions();
                }
                subscriptions = None;
            }
            _ = tick.tick(), if !draining => {
                // Give back what a burst took, once it is written.
                if let Some(outbox) = &outbox {
                    outbox.shrink();
                }
                if notes.is_empty() && notes.capacity() > 64 {
                    notes = Vec::new();
                }
                transport.shrink();
                let busy = std::mem::take(&mut heard)
                    || flight.running() > 0
                    || (quiet.subscriptions_count
                        && outbox.as_ref().is_some_and(|outbox| outbox.subscriptions() > 0));
                quiet_ticks = if busy { 0 } else { quiet_ticks.saturating_add(1) };
                if quiet_ticks >= quiet.close_at {
                    tracing::debug!(ending = ?quiet.ending, "closing a quiet connection");
                    break quiet.ending;
                }
                if quiet.ping_at == Some(quiet_ticks) {
                    if let Err(stop) = write(&mut transport, Out::Ping, deadline).await {
                        break stop.ending();
                    }
                }
            }
            taken = take(outbox.as_ref(), &mut notes), if outbox.is_some() => {
                if taken == Taken::Lagged {
                    break Ending::TooSlow("a subscription's queue overflowed");
                }
                if let Err(stop) = write_notes(&mut transport, &mut notes, deadline).await {
                    break stop.ending();
                }
            }
            Some(()) = next_answer(&mut subscriptions), if running(&subscriptions) > 0 => {}
            Some((len, response, started, barrier)) = next_answer(flight.calls()), if flight.running() > 0 => {
                flight.ended(len, barrier);
                // What the call sent its peer before it answered goes before its answer.
                if let Some(taken) = take(outbox.as_ref(), &mut notes).now_or_never() {
                    if taken == Taken::Lagged {
                        break Ending::TooSlow("a subscription's queue overflowed");
                    }
                    if let Err(stop) = write_notes(&mut transport, &mut notes, deadline).await {
                        break stop.ending();
                    }
                }
                if let Err(stop) = send(&mut transport, response, deadline).await {
                    break stop.ending();
                }
                drive(&mut subscriptions, started);
            }
            incoming = poll_fn(|task| transport.poll_next(task)), if reading => {
                // The messages that are here already are handled together, and their answers
                // flushed once: one write for many calls, not one each.
                let mut incoming = incoming;
                let mut more = MESSAGES_PER_FLUSH;
                let stop = loop {
                    heard = true;
                    match incoming {
                        None => break Some(Ending::Eof),
                        Some(Ok(Incoming::Message(body))) if !config.batches && is_batch(&body) => {
                            let answer = Some(refusal(&no_batches()));
                            if let Err(stop) = feed(&mut transport, answer, deadline).await {
                                break Some(stop.ending());
                            }
                        }
                        Some(Ok(Incoming::Message(body))) if !direct => {
                            // Read for the answers a call awaits: an answer goes to it now;
                            // anything else waits its turn, or, once draining, is refused.
                            if !router.take_urgent(&body, cx) {
                                if draining {
                                    let answer = router.reject(&body, &ErrorObject::shutting_down());
                                    if let Err(stop) = feed(&mut transport, answer, deadline).await {
                                        break Some(stop.ending());
                                    }
                                } else {
                                    flight.park(body);
                                }
                            }
                        }
                        Some(Ok(Incoming::Message(body))) => {
                            let begun = begin(router, &body, cx, flight.running() == 0);
                            if let Started::Done(Handled { response, subscriptions: started, .. }) =
                                flight.start(body, begun, false, later)
                            {
                                if let Err(stop) = feed(&mut transport, response, deadline).await {
                                    break Some(stop.ending());
                                }
                                // Driven only once the answer is flushed: it goes first.
                                started_now.extend(started);
                            }
                        }
                        Some(Ok(Incoming::Refused(error))) => {
                            let answer = Some(refusal(&error));
                            if let Err(stop) = feed(&mut transport, answer, deadline).await {
                                break Some(stop.ending());
                            }
                        }
                        Some(Ok(Incoming::Heard)) => {}
                        Some(Err(ending)) => break Some(ending),
                    }
                    more -= 1;
                    if more == 0
                        || (flight.room() && !draining) != direct
                        || (!direct && flight.parked_full())
                    {
                        break None;
                    }
                    match poll_fn(|task| transport.poll_next(task)).now_or_never() {
                        Some(next) => incoming = next,
                        None => break None,
                    }
                };
                if stop == Some(Ending::Eof) && T::ANSWERS_AFTER_EOF {
                    // The peer closed its side of a stream and waits for the answers: what
                    // is in flight is answered, then the connection ends. Its subscriptions
                    // end now, as on a drain.
                    let flushed = tokio::time::timeout(deadline, flush(&mut transport)).await;
                    if let Err(stop) = outcome(flushed) {
                        break stop.ending();
                    }
                    draining = true;
                    peer_closed = true;
                    // Answered within the drain timeout, or not at all.
                    eof_deadline = Some(Box::pin(tokio::time::sleep(config.eof_drain)));
                    if let Some(outbox) = &outbox {
                        outbox.end_subscriptions_unannounced();
                    }
                    // Nothing more is read: what the calls await will not come.
                    if let Some(peer) = &peer {
                        peer.close();
                    }
                    subscriptions = None;
                    started_now.clear();
                    continue;
                }
                if let Some(stop) = stop {
                    // Closing: a write that stalled is not waited for a second time.
                    break stop;
                }
                let flushed = tokio::time::timeout(deadline, flush(&mut transport)).await;
                if let Err(stop) = outcome(flushed) {
                    break stop.ending();
                }
                drive(&mut subscriptions, started_now.drain(..));
            }
            else => break Ending::Gone,
        }
    };
    // The subscriptions end with the connection; sinks held elsewhere see it closed, and
    // what the calls await of the peer fails at once.
    if let Some(outbox) = &outbox {
        outbox.close();
    }
    if let Some(peer) = &peer {
        peer.close();
    }
    drop(subscriptions);
    drop(flight);
    match ending {
        // Broken, or a WebSocket's peer closed it: nothing more can be said.
        Ending::Gone => {}
        Ending::Eof if !T::ANSWERS_AFTER_EOF => {}
        // A stream's peer closed its side and has its answers: ours ends too (a TLS stream
        // says close_notify), and there is nothing left to read.
        Ending::Eof => {
            let closed = poll_fn(|task| transport.poll_close(task));
            let _ = tokio::time::timeout(deadline.min(LINGER), closed).await;
        }
        _ => {
            // Close gently: after the closing words, what the peer still sends is read and
            // dropped for a moment (its own close ends it). Dropped with unread bytes, the
            // socket would be reset, and the reset can destroy the last answers before the
            // peer reads them.
            let closed = async {
                transport.start_close(ending).ok()?;
                poll_fn(|task| transport.poll_close(task)).await.ok()?;
                if transport.lingers() {
                    while let Some(Ok(_)) = poll_fn(|task| transport.poll_next(task)).await {}
                }
                Some(())
            };
            let _ = tokio::time::timeout(deadline.min(LINGER), closed).await;
        }
    }
    ending
}
