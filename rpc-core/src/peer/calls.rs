//! The requests a peer sent that await their answers: the place each takes, and the answer
//! routed to it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context as TaskContext, Poll, Waker};

use rustc_hash::FxHashMap;
use serde_json::value::RawValue;

use super::PeerError;
use crate::request::Answer;
use crate::{ErrorObject, Id};

/// The outstanding requests of one peer.
#[derive(Debug)]
pub(super) struct Calls {
    inner: Mutex<Inner>,
    /// The next request's id: the peer's own count, or one shared with another sender on the
    /// same connection (a client's own calls).
    ids: Arc<AtomicU64>,
}

#[derive(Debug, Default)]
struct Inner {
    slots: FxHashMap<u64, Slot>,
    /// How many slots await their answer (the rest are answered, not yet taken).
    unanswered: usize,
    /// Woken when no request awaits its answer any more (a draining connection's task).
    idle: Option<Waker>,
    /// Requests waiting for a place.
    waiting: VecDeque<Waker>,
    closed: bool,
}

#[derive(Debug)]
enum Slot {
    /// Awaiting the answer; the waker of the request's future.
    Waiting(Option<Waker>),
    /// Answered: the result's JSON text, or why not.
    Answered(Result<String, PeerError>),
}

impl Calls {
    pub(super) fn new(ids: Arc<AtomicU64>) -> Self {
        Self {
            inner: Mutex::default(),
            ids,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; a poisoned one is still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many requests await their answers.
    pub(super) fn unanswered(&self) -> usize {
        self.lock().unanswered
    }

    /// Ready once no request awaits its answer; until then `task` is woken when none does.
    pub(super) fn poll_idle(&self, task: &mut TaskContext<'_>) -> Poll<()> {
        let mut inner = self.lock();
        if inner.unanswered == 0 {
            return Poll::Ready(());
        }
        if !inner
            .idle
            .as_ref()
            .is_some_and(|w| w.will_wake(task.waker()))
        {
            inner.idle = Some(task.waker().clone());
        }
        Poll::Pending
    }

    /// A place for one more request, with its id; or `task` is woken when one is free.
    pub(super) fn poll_admit(
        &self,
        max: usize,
        task: &mut TaskContext<'_>,
    ) -> Poll<Result<u64, PeerError>> {
        let mut inner = self.lock();
        if inner.closed {
            return Poll::Ready(Err(PeerError::Closed));
        }
        if inner.slots.len() >= max {
            if !inner.waiting.iter().any(|w| w.will_wake(task.waker())) {
                inner.waiting.push_back(task.waker().clone());
            }
            return Poll::Pending;
        }
        // Ids count up and are not reused: a late answer to a forgotten request never reaches
        // a newer one.
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        inner.slots.insert(id, Slot::Waiting(None));
        inner.unanswered += 1;
        Poll::Ready(Ok(id))
    }

    /// Routes an answer to its request. One that answers nothing outstanding (an id this side
    /// never sent, one already answered, one whose request was dropped) is logged and dropped.
    pub(super) fn deliver(&self, id: &Id<'_>, answer: Answer<'_>) {
        let mut inner = self.lock();
        let slot = id
            .as_u64()
            .and_then(|n| inner.slots.get_mut(&n).map(|slot| (n, slot)));
        let Some((n, slot @ Slot::Waiting(_))) = slot else {
            tracing::debug!(%id, "an answer to no request outstanding; dropped");
            return;
        };
        let outcome = match answer {
            Answer::Result(raw) => Ok(raw.get().to_owned()),
            Answer::Error(raw) => Err(PeerError::Answered(error_object(raw))),
            Answer::Malformed(why) => Err(PeerError::Malformed(why)),
        };
        let Slot::Waiting(waker) = std::mem::replace(slot, Slot::Answered(outcome)) else {
            return;
        };
        let idle = inner.answered_one();
        drop(inner);
        tracing::trace!(id = n, "an answer from the peer");
        waker.into_iter().chain(idle).for_each(Waker::wake);
    }

    /// Fails every outstanding request, and every later one.
    pub(super) fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        inner.unanswered = 0;
        let idle = inner.idle.take();
        let mut wakers: Vec<Waker> = inner.waiting.drain(..).chain(idle).collect();
        for slot in inner.slots.values_mut() {
            if let Slot::Waiting(waker) = slot {
                wakers.extend(waker.take());
                *slot = Slot::Answered(Err(PeerError::Closed));
            }
        }
        drop(inner);
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Frees the place of request `id`; the waiting requests are woken to take it. All of
    /// them: one woken alone may have been dropped meanwhile, and the place would stay free
    /// with others still waiting.
    fn release(&self, id: u64) {
        let mut inner = self.lock();
        // Given up on before its answer: one fewer awaited.
        let idle = match inner.slots.remove(&id) {
            Some(Slot::Waiting(_)) => inner.answered_one(),
            _ => None,
        };
        let waiting = std::mem::take(&mut inner.waiting);
        drop(inner);
        waiting.into_iter().chain(idle).for_each(Waker::wake);
    }
}

impl Inner {
    /// One request fewer awaits its answer: the idle waker, to wake, if that was the last.
    fn answered_one(&mut self) -> Option<Waker> {
        self.unanswered = self.unanswered.saturating_sub(1);
        if self.unanswered == 0 {
            self.idle.take()
        } else {
            None
        }
    }
}

/// One request's place, from its admission on: the place is freed when it is dropped,
/// answered or not.
pub(super) struct Outstanding<'c> {
    calls: &'c Calls,
    id: u64,
}

impl<'c> Outstanding<'c> {
    pub(super) fn new(calls: &'c Calls, id: u64) -> Self {
        Self { calls, id }
    }

    /// The answer, once it came.
    pub(super) fn poll_answer(
        &self,
        task: &mut TaskContext<'_>,
    ) -> Poll<Result<String, PeerError>> {
        let mut inner = self.calls.lock();
        match inner.slots.get_mut(&self.id) {
            None => Poll::Ready(Err(PeerError::Closed)),
            Some(Slot::Waiting(waker)) => {
                if !waker.as_ref().is_some_and(|w| w.will_wake(task.waker())) {
                    *waker = Some(task.waker().clone());
                }
                Poll::Pending
            }
            Some(slot @ Slot::Answered(_)) => {
                let Slot::Answered(outcome) =
                    std::mem::replace(slot, Slot::Answered(Err(PeerError::Closed)))
                else {
                    return Poll::Pending;
                };
                Poll::Ready(outcome)
            }
        }
    }
}

impl Drop for Outstanding<'_> {
    fn drop(&mut self) {
        self.calls.release(self.id);
    }
}

/// An error object as the peer sent it; one that is not a valid error object is kept whole as
/// the data of an "Invalid error object" error.
fn error_object(raw: &RawValue) -> ErrorObject {
    #[derive(serde::Deserialize)]
    struct Wire<'a> {
        code: i32,
        #[serde(borrow)]
        message: std::borrow::Cow<'a, str>,
        #[serde(borrow, default)]
        data: Option<&'a RawValue>,
    }
    match serde_json::from_str::<Wire<'_>>(raw.get()) {
        Ok(wire) => {
            let error = ErrorObject::new(wire.code, wire.message.into_owned());
            match wire.data {
                Some(data) => error.with_data(data),
                None => error,
            }
        }
        Err(_) => ErrorObject::internal_error().with_data(format!(
            "the peer answered an invalid error object: {}",
            raw.get()
        )),
    }
}
