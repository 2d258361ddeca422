//! A subscription that decides before it starts: its method awaits what it must (a permission,
//! the starting state), then accepts, and only then is the subscribe call answered with the
//! id, or refuses, and the call is answered with its error.
//!
//! The method's future runs as the call's own until it decides ([`Deciding`]); accepted, it is
//! handed to the transport as a subscription, which first polls it once the answer is written:
//! [`PendingSink::accept`] resolves then, so no item can come before the id.

use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll, Waker};

use serde::Serialize;

use super::{Outbox, RawSink, SendError, Sink, Subscription, SubscriptionId};
use crate::boxed::BoxFuture;
use crate::layer::Answer;
use crate::ErrorObject;

/// Where a subscription that decides sends its items, once it has: an `async fn` that takes
/// one instead of a [`Sink`] may await first, then [`accept`](PendingSink::accept) (the
/// subscribe call is answered with the id, always before any item) or
/// [`refuse`](PendingSink::refuse) (the call is answered with the error; no id is handed
/// out). Dropped undecided, or if its method returns before it is decided, the call is
/// answered -32603 and the subscription ends.
///
/// While it decides, the subscription counts against the connection's limit, and the call
/// against the request's time limit.
///
/// ```
/// use rpc_core::{rpc_subscription, ErrorObject, PendingSink};
///
/// /// The balance of an account, each time it changes; only for accounts that exist.
/// #[rpc_subscription]
/// async fn balance(account: String, pending: PendingSink<u64>) {
///     let Some(start) = lookup(&account).await else {
///         pending.refuse(ErrorObject::new(4040, "no such account"));
///         return;
///     };
///     let Ok(sink) = pending.accept().await else {
///         return; // the client went away meanwhile
///     };
///     let _ = sink.send(start).await;
/// }
///
/// async fn lookup(account: &str) -> Option<u64> {
///     (account == "alice").then_some(10)
/// }
/// ```
pub struct PendingSink<T> {
    raw: RawSink,
    decision: Option<Arc<Decision>>,
    item: PhantomData<fn(&T)>,
}

impl<T: Serialize> PendingSink<T> {
    /// The pending sink over a raw one (generated code makes it).
    pub fn from_raw(raw: RawSink) -> Self {
        Self {
            decision: raw.decision.clone(),
            raw,
            item: PhantomData,
        }
    }

    /// The subscription's id, as the client will know it once accepted.
    pub fn id(&self) -> SubscriptionId {
        self.raw.id()
    }

    /// Accepts: the subscribe call is answered with the id, and this resolves, with the
    /// sink, once that answer is written and the transport drives the subscription (from any
    /// task: the sink may have been handed to another). Fails if the subscription ended
    /// meanwhile (the client went away, the call timed out, the server is shutting down).
    pub async fn accept(mut self) -> Result<Sink<T>, SendError> {
        if let Some(decision) = self.decision.take() {
            decision.decide(State::Accepted);
        }
        let raw = self.raw.clone();
        // Started once the transport polls the subscription: past the answer.
        let started = poll_fn(|task| raw.outbox().poll_started(raw.id(), task)).await;
        if !started {
            return Err(SendError::closed());
        }
        Ok(Sink::from_raw(raw))
    }

    /// Refuses: the subscribe call is answered with `error`, and no id is handed out. (For a
    /// subscription not registered as one that decides, whose id is answered already, this
    /// only logs: the subscription ends when its method returns.)
    pub fn refuse(mut self, error: ErrorObject) {
        match self.decision.take() {
            Some(decision) => decision.decide(State::Refused(error)),
            None => tracing::warn!(
                code = error.code(),
                "a subscription refused after its id was answered"
            ),
        }
    }

    /// Resolves when the subscription has ended before it was decided: the client went away.
    pub async fn closed(&self) {
        self.raw.closed().await;
    }
}

impl<T> Drop for PendingSink<T> {
    fn drop(&mut self) {
        if let Some(decision) = self.decision.take() {
            decision.decide(State::Abandoned);
        }
    }
}

impl<T> fmt::Debug for PendingSink<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSink")
            .field("id", &self.raw.id())
            .finish()
    }
}

/// What a pending subscription decided, shared by its sink and its call.
#[derive(Default)]
pub(crate) struct Decision {
    state: Mutex<State>,
    /// The call waiting on it.
    waiter: Mutex<Option<Waker>>,
}

#[derive(Default)]
enum State {
    #[default]
    Waiting,
    Accepted,
    /// Accepted, and handed to the transport.
    Handed,
    Refused(ErrorObject),
    /// Dropped undecided.
    Abandoned,
}

impl Decision {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn decide(&self, state: State) {
        *self.lock() = state;
        let waiter = self
            .waiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(waker) = waiter {
            waker.wake();
        }
    }
}

/// A pending subscribe call: runs the method's future until it decides, then answers.
/// Accepted, the subscription goes to `open` (which starts it once the answer is written).
pub(crate) struct Deciding<'r, F> {
    future: Option<BoxFuture<'r, ()>>,
    decision: Arc<Decision>,
    outbox: Outbox,
    id: SubscriptionId,
    method: &'r str,
    open: F,
}

impl<'r, F: FnMut(Subscription<'r>)> Deciding<'r, F> {
    pub(crate) fn new(
        future: BoxFuture<'r, ()>,
        decision: Arc<Decision>,
        sink: &RawSink,
        method: &'r str,
        open: F,
    ) -> Self {
        Self {
            future: Some(future),
            decision,
            outbox: sink.outbox().clone(),
            id: sink.id(),
            method,
            open,
        }
    }

    /// Ends the subscription unstarted, with `error` as the call's answer.
    fn end(&mut self, error: ErrorObject) -> Poll<Answer> {
        let future = self.future.take();
        self.outbox.end(self.id);
        drop_quietly(future);
        Poll::Ready(error.into())
    }
}

impl<'r, F: FnMut(Subscription<'r>) + Unpin> Future for Deciding<'r, F> {
    type Output = Answer;

    fn poll(mut self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Answer> {
        let this = &mut *self;
        let Some(future) = this.future.as_mut() else {
            return Poll::Ready(ErrorObject::internal_error().into());
        };
        *this
            .decision
            .waiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(task.waker().clone());
        // Ended meanwhile: the connection closed, or is draining.
        if !this.outbox.poll_alive(this.id, Some(task), false) {
            return this.end(ErrorObject::shutting_down());
        }
        let ended = match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(task))) {
            Ok(polled) => polled.is_ready(),
            Err(panic) => {
                crate::call::panicked(this.method, &*panic);
                return this.end(ErrorObject::internal_error());
            }
        };
        let mut state = this.decision.lock();
        match std::mem::take(&mut *state) {
            State::Accepted => {
                *state = State::Handed;
                drop(state);
                let future = this.future.take().filter(|_| !ended);
                // A method that accepted and ended at once ends its subscription at once.
                let future = future.unwrap_or_else(|| Box::pin(async {}));
                (this.open)(Subscription::new(this.outbox.clone(), this.id, future));
                Poll::Ready(Answer {
                    result: Ok(format!("\"{}\"", this.id).into_bytes()),
                    opened: Some(this.id),
                })
            }
            State::Refused(error) => {
                drop(state);
                this.end(error)
            }
            State::Waiting if !ended => Poll::Pending,
            State::Waiting | State::Abandoned | State::Handed => {
                drop(state);
                tracing::error!(method = this.method, "a subscription ended undecided");
                this.end(ErrorObject::internal_error())
            }
        }
    }
}

impl<F> Drop for Deciding<'_, F> {
    fn drop(&mut self) {
        // Dropped undecided (the request timed out, the connection closed): nothing leaks.
        if let Some(future) = self.future.take() {
            self.outbox.end(self.id);
            drop_quietly(Some(future));
        }
    }
}

/// Drops a method's future, whose destructor may panic: logged, and no further.
fn drop_quietly(future: Option<BoxFuture<'_, ()>>) {
    if future.is_some() && catch_unwind(AssertUnwindSafe(|| drop(future))).is_err() {
        tracing::error!("a subscription's future panicked as it was dropped");
    }
}
