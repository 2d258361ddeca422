//! Calls through the async layers: from the dispatcher down the chain of layers' futures to
//! the endpoint at its end, where the call's method runs: the router over a transport that
//! cannot push, the message being pushed over one that can.
//!
//! The dispatcher comes here only when the router has async layers ([`Router::begin`]), and
//! this comes back to the dispatcher for what the chain does not take (answers, invalid
//! entries, rejected calls) and for its shared pieces: the way the two meet is that narrow.

use std::borrow::Cow;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Waker};

use crate::call::{panicked, CallTrace, Running};
use crate::dispatch::push::Pushing;
use crate::dispatch::{answer_error, pending, write_outcome, Mode, Started};
use crate::layer::{Endpoint, Innermost, Layered, Next};
use crate::method::Callback;
use crate::request::{Entry, Request};
use crate::{Answer, Call, Context, ErrorObject, Params, Router};

impl<S: Send + Sync + 'static> Router<S> {
    /// Runs the sync layers' `before` hooks for a call: `Err` is its answer. With no layer,
    /// nothing of this, not even a clock read.
    #[inline(always)]
    fn layers_before<'x>(
        &'x self,
        method: &'x str,
        request: &Request<'x>,
        cx: &'x Context<'x>,
    ) -> Result<Option<Layered<'x>>, ErrorObject> {
        if self.layers.is_empty() {
            return Ok(None);
        }
        let call = Call::new(
            method,
            request.id.clone().map(Cow::Owned),
            request.params,
            cx,
        );
        let mut layered = Layered::new(&self.layers, call);
        layered.before()?;
        Ok(Some(layered))
    }

    /// The name a call goes through the async layers by: the request's own (an alias as
    /// sent), or for one spelled with escapes, the registered name. `None` for what does not
    /// go through them: an unregistered name spelled with escapes (no text of it outlives the
    /// request), and the protocol's cancel notification, which must reach the call it
    /// cancels whatever a layer would do with it.
    fn chain_name<'a, 'r: 'a>(
        &'r self,
        request: &Request<'a>,
        cx: &Context<'_>,
    ) -> Option<&'a str> {
        if is_cancel(cx, request) {
            return None;
        }
        match &request.method {
            Cow::Borrowed(name) => Some(name),
            Cow::Owned(name) => self.lookup(name).map(|method| &*method.info.name),
        }
    }

    /// Starts a call through the sync layers, then the async ones; what does not go through
    /// them (an answer, an invalid entry, a rejected call, an unknown name with escapes) goes
    /// to [`Self::start`]. Apart from it, so that a router without async layers runs the
    /// code it ran before they existed.
    #[inline(never)]
    pub(crate) fn start_chained<'a, 'r: 'a>(
        &'r self,
        entry: Entry<'a>,
        out: &mut Vec<u8>,
        cx: &'r Context<'r>,
        mode: Mode<'a, 'r, S>,
    ) -> Started<'a> {
        let name = match (&entry, mode) {
            (Entry::Call(request), Mode::Run | Mode::Push(_)) => self.chain_name(request, cx),
            _ => None,
        };
        match (entry, name) {
            (Entry::Call(request), Some(name)) => match self.layers_before(name, &request, cx) {
                Ok(layered) => self.chain(name, request, layered.map(Box::new), out, cx, mode),
                Err(refusal) => answer_error(out, request.id.as_ref(), &refusal),
            },
            (entry, _) => self.start(entry, out, cx, mode),
        }
    }

    /// Starts a call through the async layers: the first one's future is the call's.
    fn chain<'a, 'r: 'a>(
        &'r self,
        name: &'a str,
        request: Request<'a>,
        kept: Option<Box<Layered<'a>>>,
        out: &mut Vec<u8>,
        cx: &'r Context<'r>,
        mode: Mode<'a, 'r, S>,
    ) -> Started<'a> {
        let endpoint: &'a dyn Endpoint = match mode {
            Mode::Push(pushing) => pushing,
            Mode::Run | Mode::Reject(_) => self,
        };
        let call = Call::new(name, request.id.clone().map(Cow::Owned), request.params, cx);
        // The layers see the name as sent; the params shaper, the call's span and the logs
        // see the method's own name, as they do without async layers.
        let name = self.lookup(name).map_or(name, |method| &*method.info.name);
        let trace = CallTrace::begin(name, request.id.as_ref());
        let entered = trace.as_ref().map(|trace| trace.span.enter());
        let started = catch_unwind(AssertUnwindSafe(|| {
            let (first, rest) = self.async_layers.split_first()?;
            Some(first.call(call, Next::new(rest, endpoint)))
        }));
        drop(entered);
        match started {
            Ok(Some(future)) => {
                let shape = self.params_shaper.as_deref();
                let running = Running::Chain(future);
                let started = pending(running, name, request, kept, trace, cx, shape);
                answer_at_once(started, out, mode)
            }
            Ok(None) | Err(_) => {
                tracing::error!(method = name, "an async call layer panicked");
                let error = ErrorObject::internal_error();
                let error = Layered::finish(kept.as_deref(), Err(&error)).unwrap_or(error);
                answer_error(out, request.id.as_ref(), &error)
            }
        }
    }
}

/// Polls a call through the async layers once, on the spot: one that answers at once (a sync
/// method under layers that did not wait) is written now, beside the sync calls, instead of
/// waiting its turn among the pending ones. Polling with a waker that does nothing is sound:
/// a call still pending is polled again, with the task's own, before anyone waits on it.
fn answer_at_once<'a, S: Send + Sync + 'static>(
    started: Started<'a>,
    out: &mut Vec<u8>,
    mode: Mode<'_, '_, S>,
) -> Started<'a> {
    let Started::Pending {
        id,
        mut call,
        silence,
    } = started
    else {
        return started;
    };
    let Poll::Ready(answer) = Pin::new(&mut call).poll(&mut TaskContext::from_waker(Waker::noop()))
    else {
        return Started::Pending { id, call, silence };
    };
    drop(call);
    match id {
        Some(id) if !silence.is_some_and(|silence| silence.is_silent()) => {
            write_outcome(out, &id, answer, mode);
            Started::Done { answered: true }
        }
        _ => Started::Done { answered: false },
    }
}

impl<S: Send + Sync + 'static> Endpoint for Router<S> {
    fn run<'a>(&'a self, call: Call<'a>) -> Innermost<'a> {
        let Some(method) = self.lookup(call.method()) else {
            let cx = call.context();
            if cancels(cx, call.method(), call.is_notification(), call.params()) {
                return ready(Ok(b"null".to_vec()));
            }
            return ready(Err(ErrorObject::method_not_found()));
        };
        let name = &*method.info.name;
        match &method.callback {
            Callback::Async(start) => {
                let (cx, params) = (call.context(), call.params());
                match catch_unwind(AssertUnwindSafe(|| start(self.state(), cx, params))) {
                    Ok(future) => Innermost::Method(future),
                    Err(panic) => ready(Err(panicked(name, &*panic))),
                }
            }
            Callback::Subscribe(_) => ready(Err(self.needs_push(name))),
            _ => {
                // A buffer of its own: the layers see the result before it is written.
                let mut out = Vec::new();
                let (cx, params) = (call.context(), call.params());
                let result = self.call_sync(&method.callback, name, cx, params, &mut out);
                ready(result.map(|()| out))
            }
        }
    }
}

impl<S: Send + Sync + 'static> Endpoint for Pushing<'_, S> {
    fn run<'a>(&'a self, call: Call<'a>) -> Innermost<'a> {
        let router = self.router;
        let found = router.lookup(call.method());
        let Some((method, subscribe)) = found.and_then(|method| match &method.callback {
            Callback::Subscribe(subscribe) => Some((method, subscribe)),
            _ => None,
        }) else {
            return Endpoint::run(router, call);
        };
        let name = &*method.info.name;
        let Some(outbox) = self.cx.outbox() else {
            return ready(Err(router.needs_push(name)));
        };
        if call.is_notification() {
            // Its id would be answered to no one: nothing starts.
            tracing::debug!(method = name, "a subscribe notification starts nothing");
            return ready(Ok(b"null".to_vec()));
        }
        if method.info.subscription.as_ref().is_some_and(|s| s.pending) {
            // Its answer waits for its method to decide.
            return match router.deciding(method, (&**subscribe, self, outbox), call.params()) {
                Ok(deciding) => Innermost::Deciding(deciding),
                Err(error) => ready(Err(error)),
            };
        }
        match router.open_subscription(method, subscribe, call.params(), self.cx, outbox) {
            Ok(subscription) => {
                // It starts once the caller gets this answer: if a layer answers another,
                // it ends unseen.
                let id = subscription.id();
                self.open(subscription);
                Innermost::Ready(Some(Answer {
                    result: Ok(format!("\"{id}\"").into_bytes()),
                    opened: Some(id),
                }))
            }
            Err(error) => ready(Err(error)),
        }
    }
}

/// Whether `request` is the cancel notification of the connection's protocol.
pub(crate) fn is_cancel(cx: &Context<'_>, request: &Request<'_>) -> bool {
    let cancel = cx
        .cancellation()
        .map(|cancellation| cancellation.dialect().cancel_method());
    request.id.is_none() && cancel == Some(&*request.method)
}

/// Cancels a call of the caller's if this is the cancel notification of its protocol:
/// `true` when it was (no method runs for it, and no answer is due).
pub(crate) fn cancels(
    cx: &Context<'_>,
    method: &str,
    notification: bool,
    params: Params<'_>,
) -> bool {
    let Some(cancellation) = cx.cancellation() else {
        return false;
    };
    let cancels = notification && method == cancellation.dialect().cancel_method();
    if cancels {
        cancellation.cancel(params);
    }
    cancels
}

fn ready<'a>(result: Result<Vec<u8>, ErrorObject>) -> Innermost<'a> {
    Innermost::Ready(Some(Answer::from_result(result)))
}
