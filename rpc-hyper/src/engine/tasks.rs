//! What the engine's loop waits on and runs, beside the transport: the calls in flight, the
//! subscriptions, the outbox and the server's signal.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use rpc_core::{Begun, Context, ErrorObject, Note, Outbox, Router, Subscription, Taken};

use crate::control::SignalWatch;

/// A message's answer, from a router with async methods, with the message's length: one future
/// type for every message, so the set of calls in flight holds them without a box each.
pub(super) async fn answer_later<'r, S: Send + Sync + 'static>(
    router: &'r Router<S>,
    body: Bytes,
    cx: &'r Context<'r>,
    limit: Option<Duration>,
    barrier: bool,
) -> (usize, Option<Vec<u8>>, Vec<Subscription<'r>>, bool) {
    let len = body.len();
    let handling = router.handle_push(&body, cx);
    let handled = match limit {
        None => handling.await,
        Some(limit) => match tokio::time::timeout(limit, handling).await {
            Ok(handled) => handled,
            Err(_) => {
                tracing::warn!(
                    limit_ms = limit.as_millis(),
                    "a message timed out; its work is dropped"
                );
                let error = rpc_core::ErrorObject::server_error(
                    crate::TIMEOUT_ERROR_CODE,
                    "Request timed out",
                );
                return (len, router.reject(&body, &error), Vec::new(), barrier);
            }
        },
    };
    (len, handled.response, handled.subscriptions, barrier)
}

/// A message begun: handled now if it can be (a sync router's always is), or left for a
/// future, in its order.
pub(super) fn begin<'r, S: Send + Sync + 'static>(
    router: &'r Router<S>,
    body: &[u8],
    cx: &'r Context<'r>,
    alone: bool,
) -> Begun<'r> {
    match router.handle_sync_push(body, cx) {
        Ok(handled) => Begun::Done(handled),
        Err(_) => router.begin_push(body, cx, alone),
    }
}

/// tokio's timer, for the peer's time limits.
pub(super) fn sleep(limit: Duration) -> rpc_core::BoxFuture<'static, ()> {
    Box::pin(tokio::time::sleep(limit))
}

/// Whether a message is a batch: a JSON array.
pub(super) fn is_batch(body: &[u8]) -> bool {
    body.trim_ascii_start().first() == Some(&b'[')
}

/// The answer to a batch on a connection that takes none.
pub(super) fn no_batches() -> ErrorObject {
    ErrorObject::invalid_request().with_data("batches are not accepted on this connection")
}

/// Drives `started`, whose answers are written, from now on, with the connection's other
/// subscriptions. They are told at once that their ids are out: a drain before their first
/// poll still sends the end notices they declared.
pub(super) fn drive<'r>(
    subscriptions: &mut Option<FuturesUnordered<Subscription<'r>>>,
    started: impl IntoIterator<Item = Subscription<'r>>,
) {
    let mut started = started
        .into_iter()
        .inspect(Subscription::answered)
        .peekable();
    if started.peek().is_some() {
        subscriptions
            .get_or_insert_with(FuturesUnordered::new)
            .extend(started);
    }
}

/// What the outbox has to write; never, without one.
pub(super) async fn take(outbox: Option<&Outbox>, notes: &mut Vec<Note>) -> Taken {
    match outbox {
        Some(outbox) => poll_fn(|task| outbox.poll_take(task, notes)).await,
        None => std::future::pending().await,
    }
}

/// How many futures are running.
pub(super) fn running<F>(in_flight: &Option<FuturesUnordered<F>>) -> usize {
    in_flight.as_ref().map_or(0, FuturesUnordered::len)
}

/// The next output of a set of futures; never, with none running.
pub(super) async fn next_answer<F: std::future::Future>(
    in_flight: &mut Option<FuturesUnordered<F>>,
) -> Option<F::Output> {
    match in_flight {
        Some(in_flight) => in_flight.next().await,
        None => std::future::pending().await,
    }
}

/// Waits for the server's next signal (never, outside a server); with `answered`, a peer
/// draining awaits, also for its last answer: `None` then; with `deadline`, the end of a
/// drain's time, as the close signal. (One branch of the loop for all three: a branch of its
/// own costs every turn of the loop.)
pub(super) async fn wait(
    signal: &mut Option<SignalWatch<'_>>,
    answered: Option<&rpc_core::Peer>,
    mut deadline: Option<&mut Pin<Box<tokio::time::Sleep>>>,
) -> Option<u8> {
    poll_fn(|task| {
        if let Some(deadline) = deadline.as_mut() {
            if deadline.as_mut().poll(task).is_ready() {
                tracing::warn!("the calls in flight outlived the drain timeout; closing");
                return Poll::Ready(Some(crate::control::CLOSE));
            }
        }
        if let Some(signal) = signal.as_mut() {
            if let Poll::Ready(level) = Pin::new(signal).poll(task) {
                return Poll::Ready(Some(level));
            }
        }
        match answered {
            Some(peer) => peer.poll_all_answered(task).map(|()| None),
            None => Poll::Pending,
        }
    })
    .await
}
