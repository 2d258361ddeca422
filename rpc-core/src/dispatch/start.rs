//! One call, from its request to its answer: the method looked up and run (a sync one
//! written in place, an async one started), through the sync layers, as far as it goes
//! without waiting.

use std::panic::{catch_unwind, AssertUnwindSafe};

use std::borrow::Cow;

use super::{Mode, Started};
use crate::answers::ParamsShaper;
use crate::call::{panicked, too_large, CallTrace, Guarded, Running};
use crate::dispatch::chained::cancels;
use crate::dispatch::push::unsubscribe;
use crate::layer::Layered;
use crate::method::Callback;
use crate::request::{Entry, Request};
use crate::response::{write_end, write_error, write_result_start};
use crate::{Answer, Call, Context, ErrorObject, Id, Params, Router};

impl<S: Send + Sync + 'static> Router<S> {
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
    pub(super) fn begin<'a, 'r: 'a>(
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
