//! The dispatcher: how a body is parsed and each of its calls run, its answers written in
//! place. The entry points are in `handle`.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Context as TaskContext, Poll, Waker};

use std::borrow::Cow;

use crate::answers::ParamsShaper;
use crate::batch::join_all;
use crate::call::{panicked, too_large, CallTrace, Guarded, Running};
use crate::cancel::Silence;
use crate::chained::cancels;
use crate::layer::Layered;
use crate::method::Callback;
use crate::push::{unsubscribe, Pushing};
use crate::request::{parse_body, Body, Entry, Request};
use crate::response::{write_end, write_error, write_result_start};
use crate::{Answer, Call, Context, ErrorObject, Id, Params, Router};

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

    /// Runs one call as far as it goes without waiting.
    pub(crate) fn start<'a, 'r: 'a>(
        &'r self,
        entry: Entry<'a>,
        out: &mut Vec<u8>,
        cx: &'r Context<'r>,
        mode: Mode<'a, 'r, S>,
    ) -> Started<'a> {
        let request = match entry {
            Entry::Call(request) => request,
            Entry::Answer { id, answer, .. } if cx.peer_handle().is_some() => {
                // Answers never wait: the request it answers may hold the call's place.
                match (cx.peer_handle(), id) {
                    (Some(peer), Some(id)) => peer.deliver(&id, answer),
                    _ => tracing::debug!("an answer with no id; dropped"),
                }
                return Started::Done { answered: false };
            }
            Entry::Answer { id, reason, .. } | Entry::Invalid { id, reason } => {
                tracing::debug!(reason, "invalid request");
                write_error(
                    out,
                    id.as_ref(),
                    &ErrorObject::invalid_request().with_data(reason),
                );
                return Started::Done { answered: true };
            }
        };
        if let Mode::Reject(error) = mode {
            return answer_error(out, request.id.as_ref(), error);
        }
        // With no layer, nothing of this: not even a clock read.
        let mut layered = None;
        if !self.layers.is_empty() {
            let call = Call::new(
                &request.method,
                request.id.as_ref().map(Cow::Borrowed),
                request.params,
                cx,
            );
            let call = layered.insert(Layered::new(&self.layers, call));
            if let Err(refusal) = call.before() {
                return answer_error(out, request.id.as_ref(), &refusal);
            }
        }
        let Some(method) = self.lookup(&request.method) else {
            // The caller cancels a call it sent: no method, no answer.
            if cancels(cx, &request.method, request.id.is_none(), request.params) {
                let _ = Layered::finish(layered.as_ref(), Ok(b"null"));
                return Started::Done { answered: false };
            }
            let error = ErrorObject::method_not_found();
            let error = Layered::finish(layered.as_ref(), Err(&error)).unwrap_or(error);
            return answer_error(out, request.id.as_ref(), &error);
        };
        let name = &*method.info.name;
        let trace = CallTrace::begin(name, request.id.as_ref());
        match &method.callback {
            Callback::Async(call) => {
                let entered = trace.as_ref().map(|trace| trace.span.enter());
                let started =
                    catch_unwind(AssertUnwindSafe(|| call(self.state(), cx, request.params)));
                drop(entered);
                match started {
                    Ok(future) => {
                        let kept = self.kept(layered.as_ref(), name, &request, cx);
                        let shape = self.params_shaper.as_deref();
                        let running = Running::Method(future);
                        pending(running, name, request, kept, trace, cx, shape)
                    }
                    Err(panic) => {
                        let error = panicked(name, &*panic);
                        let error = Layered::finish(layered.as_ref(), Err(&error)).unwrap_or(error);
                        answer_error(out, request.id.as_ref(), &error)
                    }
                }
            }
            Callback::Subscribe(subscribe) => {
                if let Some((pushing, outbox)) = self.decides(method, &request, cx, mode) {
                    let kept = self.kept(layered.as_ref(), name, &request, cx);
                    let how = (&**subscribe, pushing, outbox);
                    return self.start_deciding(method, how, request, kept, trace, out, cx);
                }
                self.start_subscription(subscribe, method, &request, layered, trace, out, cx, mode)
            }
            sync_callbacks!() => {
                let mark = out.len();
                write_result_start(out);
                let result_at = out.len();
                let entered = trace.as_ref().map(|trace| trace.span.enter());
                let mut outcome = self.call_sync(&method.callback, name, cx, request.params, out);
                drop(entered);
                let len = out.len().saturating_sub(result_at);
                if outcome.is_ok() && len > cx.max_result_len() {
                    outcome = Err(too_large(name, len, cx.max_result_len()));
                }
                if let Some(trace) = trace {
                    trace.end(outcome.as_ref().err());
                }
                let result = outcome
                    .as_ref()
                    .map(|()| out.get(result_at..).unwrap_or_default());
                if let Some(replaced) = Layered::finish(layered.as_ref(), result) {
                    outcome = Err(replaced);
                }
                match (&request.id, outcome) {
                    (None, _) => out.truncate(mark),
                    (Some(id), Ok(())) => write_end(out, Some(id)),
                    (Some(id), Err(error)) => {
                        out.truncate(mark);
                        write_error(out, Some(id), &self.shape(name, error));
                    }
                }
                Started::Done {
                    answered: request.id.is_some(),
                }
            }
        }
    }

    /// Runs a sync callback (a sync method, or a built-in one), its result's JSON written to
    /// `out`; a panic is -32603. Inlined, as the sync path was before it served the async
    /// layers' end too: the instruction counts pin it.
    #[inline(always)]
    pub(crate) fn call_sync(
        &self,
        callback: &Callback<S>,
        name: &str,
        cx: &Context<'_>,
        params: Params<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), ErrorObject> {
        catch_unwind(AssertUnwindSafe(|| match callback {
            Callback::Sync(call) => call(self.state(), cx, params, out),
            #[cfg(feature = "openrpc")]
            Callback::Discover => self.write_document(params, out),
            _ => {
                let errors = matches!(callback, Callback::Unsubscribe { errors: true });
                unsubscribe(cx, name, params, out, errors)
            }
        }))
        .unwrap_or_else(|panic| Err(panicked(name, &*panic)))
    }

    /// Runs one call as far as it goes without waiting: through the async layers, if the
    /// router has any.
    #[inline]
    fn begin<'a, 'r: 'a>(
        &'r self,
        entry: Entry<'a>,
        out: &mut Vec<u8>,
        cx: &'r Context<'r>,
        mode: Mode<'a, 'r, S>,
    ) -> Started<'a> {
        if self.async_layers.is_empty() {
            self.start(entry, out, cx, mode)
        } else {
            self.start_chained(entry, out, cx, mode)
        }
    }

    /// What the sync layers' `after` hooks need once a call that waits ends, for its future
    /// to keep; `None` without sync layers.
    pub(crate) fn kept<'a, 'r: 'a>(
        &'r self,
        layered: Option<&Layered<'_>>,
        name: &'a str,
        request: &Request<'a>,
        cx: &'r Context<'r>,
    ) -> Option<Box<Layered<'a>>> {
        layered.map(|layered| {
            let call = Call::new(name, request.id.clone().map(Cow::Owned), request.params, cx);
            Box::new(layered.keep(&self.layers, call))
        })
    }
}

/// A call whose answer waits for a future: its method's, or its first async layer's.
pub(crate) fn pending<'a>(
    running: Running<'a>,
    name: &'a str,
    request: Request<'a>,
    kept: Option<Box<Layered<'a>>>,
    trace: Option<CallTrace>,
    cx: &'a Context<'a>,
    shape: Option<&'a ParamsShaper>,
) -> Started<'a> {
    let cancel = cx
        .cancellation()
        .zip(request.id.as_ref())
        .map(|(cancellation, id)| cancellation.register(id));
    Started::Pending {
        silence: cancel.as_ref().and_then(|cancel| cancel.silence()),
        call: Guarded {
            future: Some(running),
            method: name,
            trace,
            layered: kept,
            max_result_len: cx.max_result_len(),
            cancel,
            shape,
        },
        id: request.id,
    }
}

/// Answers a call with `error` now, unless it is a notification.
pub(crate) fn answer_error<'a>(
    out: &mut Vec<u8>,
    id: Option<&Id<'_>>,
    error: &ErrorObject,
) -> Started<'a> {
    if let Some(id) = id {
        write_error(out, Some(id), error);
    }
    Started::Done {
        answered: id.is_some(),
    }
}

/// Appends the response to a call that waited. A subscription it opened starts now that its
/// id is answered.
pub(crate) fn write_outcome<S: Send + Sync + 'static>(
    out: &mut Vec<u8>,
    id: &Id<'_>,
    answer: Answer,
    mode: Mode<'_, '_, S>,
) {
    if let (Some(opened), Mode::Push(pushing), Ok(_)) = (answer.opened, mode, &answer.result) {
        pushing.confirm(opened);
    }
    match answer.result {
        Ok(result) => {
            write_result_start(out);
            out.extend_from_slice(&result);
            write_end(out, Some(id));
        }
        Err(error) => write_error(out, Some(id), &error),
    }
}
