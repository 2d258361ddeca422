//! The dispatcher: how a body is parsed and each of its calls run, its answers written in
//! place. The entry points are in `handle`.
//!
//! Four parts, calling one another: this file takes a body apart (one call, or a batch run
//! together); `start` starts each call ([`Router::start`]); `chained` runs a call through the
//! async layers, whose innermost end starts it there; `push` starts what a pushing transport
//! may start (subscriptions, calls the peer may cancel), and runs the rest through `start`
//! too. One mechanism: its circle is closed within this module, and nothing outside it
//! reaches in but through `handle`.

use std::future::Future;
use std::task::{Context as TaskContext, Poll, Waker};

use crate::batch::join_all;
use crate::call::Guarded;
use crate::cancel::Silence;
use crate::dispatch::push::Pushing;
use crate::request::{parse_body, Body, Entry};
use crate::response::write_error;
use crate::{Context, ErrorObject, Id, Router};

/// The callbacks that answer at once: sync methods, and the built-in ones (unsubscribe, and
/// with the `openrpc` feature, discovery), as a pattern.
#[cfg(not(feature = "openrpc"))]
macro_rules! sync_callbacks {
    () => {
        Callback::Sync(_) | Callback::Unsubscribe { .. }
    };
}

/// The callbacks that answer at once: sync methods, and the built-in ones (unsubscribe, and
/// with the `openrpc` feature, discovery), as a pattern.
#[cfg(feature = "openrpc")]
macro_rules! sync_callbacks {
    () => {
        Callback::Sync(_) | Callback::Unsubscribe { .. } | Callback::Discover
    };
}

/// The most buffer reserved for a batch's answer before it is written.
const MAX_UP_FRONT: usize = 64 * 1024;

/// What to do with the calls of a body.
pub(crate) enum Mode<'e, 'r, S> {
    /// Run them; a subscribe call is refused (the transport cannot push).
    Run,
    /// Run none; answer each call that has an id with this error.
    Reject(&'e ErrorObject),
    /// Run them; subscriptions start, into this list, for the transport to drive.
    Push(&'e Pushing<'r, S>),
}

impl<S> Clone for Mode<'_, '_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Mode<'_, '_, S> {}

/// How far handling one call got without waiting.
// Boxing `Pending` would cost an allocation per async call; a `Started` lives on the stack
// while one call starts, and a batch keeps only the `Guarded` calls.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Started<'a> {
    /// Answered (the response is in the buffer) or, for a notification, done with nothing to say.
    Done { answered: bool },
    /// An async method is running; its response is due once the future completes.
    Pending {
        id: Option<Id<'a>>,
        call: Guarded<'a>,
        /// Where the caller may cancel it without an answer: whether it did.
        silence: Option<Silence>,
    },
}

impl<S: Send + Sync + 'static> Router<S> {
    /// Handles a body that cannot wait (its calls are all sync, or none runs) on the spot.
    pub(crate) fn now<'r>(
        &'r self,
        body: &[u8],
        cx: &'r Context<'r>,
        mode: Mode<'_, 'r, S>,
    ) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(128);
        let polled = {
            let handling = std::pin::pin!(self.handle_into(body, &mut out, cx, mode));
            handling.poll(&mut TaskContext::from_waker(Waker::noop()))
        };
        match polled {
            Poll::Ready(answered) => answered.then_some(out),
            // Only an async method waits, and none runs here; but should one ever, the caller
            // still gets an answer rather than a panic.
            Poll::Pending => {
                out.clear();
                write_error(&mut out, None, &ErrorObject::internal_error());
                Some(out)
            }
        }
    }

    /// Appends the response to `out`; `false` when no response is due (and `out` is unchanged).
    pub(crate) async fn handle_into<'a, 'r: 'a>(
        &'r self,
        body: &'a [u8],
        out: &mut Vec<u8>,
        cx: &'r Context<'r>,
        mode: Mode<'_, 'r, S>,
    ) -> bool {
        match parse_body(body, self.batch_limit()) {
            Err(err) => {
                write_error(out, None, &ErrorObject::parse_error().with_data(err));
                true
            }
            Ok(Body::Single(entry)) => match self.begin(entry, out, cx, mode) {
                Started::Done { answered } => answered,
                Started::Pending { id, call, silence } => {
                    let outcome = call.await;
                    if silence.is_some_and(|silence| silence.is_silent()) {
                        return false;
                    }
                    id.is_some_and(|id| {
                        write_outcome(out, &id, outcome, mode);
                        true
                    })
                }
            },
            Ok(Body::Batch(entries)) if entries.is_empty() => {
                let error = ErrorObject::invalid_request().with_data("a batch must not be empty");
                write_error(out, None, &error);
                true
            }
            Ok(Body::Batch(entries)) => {
                // A batch's answer is about as long as its request: grow the buffer once.
                out.reserve(body.len().min(MAX_UP_FRONT));
                self.batch(entries, out, cx, mode).await
            }
            Ok(Body::BatchTooLong(len)) => {
                let error = ErrorObject::invalid_request().with_data(format!(
                    "a batch may hold at most {} calls; this one holds {len}",
                    self.batch_limit()
                ));
                write_error(out, None, &error);
                true
            }
        }
    }

    /// Runs a batch: sync calls in order straight into `out`, async calls concurrently, their
    /// responses put in place afterwards, so responses keep the order of the calls.
    async fn batch<'a, 'r: 'a>(
        &'r self,
        entries: Vec<Entry<'a>>,
        out: &mut Vec<u8>,
        cx: &'r Context<'r>,
        mode: Mode<'_, 'r, S>,
    ) -> bool {
        let start = out.len();
        out.push(b'[');
        // For each async call: where its response goes, counted from `start`, and its id.
        let mut slots = Vec::new();
        let mut calls = Vec::new();
        for entry in entries {
            match self.begin(entry, out, cx, mode) {
                Started::Done { answered: true } => out.push(b','),
                Started::Done { answered: false } => {}
                Started::Pending { id, call, silence } => {
                    slots.push((out.len() - start, id, silence));
                    calls.push(call);
                }
            }
        }
        if !calls.is_empty() {
            let outcomes = join_all(calls).await;
            // `written` holds what was written from `start` on, so slot offsets index it.
            let written = out.split_off(start);
            let mut copied = 0;
            for ((at, id, silence), outcome) in slots.into_iter().zip(outcomes) {
                let silent = silence.is_some_and(|silence| silence.is_silent());
                if let Some(id) = id.filter(|_| !silent) {
                    out.extend_from_slice(&written[copied..at]);
                    copied = at;
                    write_outcome(out, &id, outcome, mode);
                    out.push(b',');
                }
            }
            out.extend_from_slice(&written[copied..]);
        }
        if out.len() == start + 1 {
            // Notifications only: nothing to answer.
            out.truncate(start);
            return false;
        }
        if let Some(last) = out.last_mut() {
            *last = b']';
        }
        true
    }
}

pub(crate) mod chained;
pub(crate) mod push;
mod start;

pub(crate) use start::{answer_error, pending, write_outcome};
