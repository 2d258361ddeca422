//! One call's run: its tracing span, its async future guarded against panics, and the
//! errors the dispatcher answers for it.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use crate::answers::{shape, ParamsShaper};
use crate::boxed::BoxFuture;
use crate::layer::Layered;
use crate::{Answer, ErrorObject, Id};

/// The error a call gets for a result over the transport's limit; the result is dropped.
pub(crate) fn too_large(method: &str, len: usize, limit: usize) -> ErrorObject {
    tracing::warn!(
        method,
        len,
        limit,
        "a result over the size limit was not sent"
    );
    ErrorObject::server_error(
        crate::ErrorCode::RESULT_TOO_LARGE.code(),
        "Result too large",
    )
    .with_data(serde_json::json!({ "limit": limit }))
}

/// Logs a method's panic and turns it into the -32603 its caller gets. The panic's text stays
/// in the log: it may hold internal detail.
pub(crate) fn panicked(method: &str, panic: &(dyn Any + Send)) -> ErrorObject {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)");
    tracing::error!(method, panic = message, "method panicked");
    ErrorObject::internal_error()
}

/// One call's tracing: a debug span (`rpc_call`, with the method and id) entered while the
/// call runs, closed with its duration and outcome, plus a `call` event. Made only when a
/// subscriber listens, so untraced calls pay nothing (not even a clock read).
pub(crate) struct CallTrace {
    pub(crate) span: tracing::Span,
    started: Instant,
}

impl CallTrace {
    pub(crate) fn begin(method: &str, id: Option<&Id<'_>>) -> Option<Self> {
        if !tracing::enabled!(tracing::Level::DEBUG) {
            return None;
        }
        let id = id.map_or_else(|| "none".to_owned(), ToString::to_string);
        let span = tracing::debug_span!(
            "rpc_call",
            method,
            id,
            micros = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        Some(Self {
            span,
            started: Instant::now(),
        })
    }

    pub(crate) fn end(self, error: Option<&ErrorObject>) {
        let micros = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let outcome = if error.is_none() { "ok" } else { "error" };
        self.span.record("micros", micros);
        self.span.record("outcome", outcome);
        self.span.in_scope(|| match error {
            None => tracing::debug!(micros, outcome, "call"),
            Some(error) => tracing::debug!(micros, outcome, code = error.code(), "call"),
        });
    }
}

/// What a call that waits is waiting for.
pub(crate) enum Running<'a> {
    /// Its async method's future.
    Method(BoxFuture<'a, Result<Vec<u8>, ErrorObject>>),
    /// Its first async layer's future, the rest of the chain and the method inside.
    Chain(BoxFuture<'a, Answer>),
}

/// An async call's future, with a panic inside it caught and turned into -32603.
pub(crate) struct Guarded<'a> {
    pub(crate) future: Option<Running<'a>>,
    pub(crate) method: &'a str,
    /// The call's tracing, if a subscriber listens.
    pub(crate) trace: Option<CallTrace>,
    /// The call's layers, if the router has any. Boxed: the future of every call of a batch
    /// is kept, and one without layers should not carry their room.
    pub(crate) layered: Option<Box<Layered<'a>>>,
    /// The largest result the transport sends.
    pub(crate) max_result_len: usize,
    /// The call's registration, where its caller may cancel it.
    pub(crate) cancel: Option<crate::cancel::Entry<'a>>,
    /// How the router words decode errors, if not as they are.
    pub(crate) shape: Option<&'a ParamsShaper>,
}

impl Future for Guarded<'_> {
    type Output = Answer;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // Unpin: its fields are borrowed apart.
        let this = self.get_mut();
        // The call's span is entered whenever it runs.
        let span = this.trace.as_ref().map(|trace| trace.span.clone());
        let entered = span.as_ref().map(tracing::Span::enter);
        let cancelled = this
            .cancel
            .as_ref()
            .is_some_and(|cancel| cancel.poll_cancelled(task));
        let Some(future) = this.future.as_mut() else {
            // Polled after completion: answer rather than panic.
            return Poll::Ready(ErrorObject::internal_error().into());
        };
        let mut answer = if cancelled {
            // Its caller gave up on it: the future is dropped where it waits.
            crate::cancel::request_cancelled().into()
        } else {
            let cancel = this.cancel.as_ref();
            let polled = catch_unwind(AssertUnwindSafe(|| {
                crate::cancel::with_current(cancel, || match future {
                    Running::Method(future) => future.as_mut().poll(task).map(Answer::from_result),
                    Running::Chain(future) => future.as_mut().poll(task),
                })
            }));
            match polled {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(answer)) => answer,
                Err(panic) => panicked(this.method, &*panic).into(),
            }
        };
        drop(entered);
        drop_quietly(this.future.take());
        if let Ok(result) = &answer.result {
            if result.len() > this.max_result_len {
                answer = too_large(this.method, result.len(), this.max_result_len).into();
            }
        }
        if let Some(trace) = this.trace.take() {
            trace.end(answer.result.as_ref().err());
        }
        let result = answer.result.as_ref().map(Vec::as_slice);
        let replaced = this
            .layered
            .as_ref()
            .and_then(|layered| layered.after(result));
        if let Some(replaced) = replaced {
            answer = replaced.into();
        }
        if let (Some(shaper), Err(error)) = (this.shape, &mut answer.result) {
            // Worded as it is answered, once the layers have seen it as it came.
            let taken = std::mem::replace(error, ErrorObject::internal_error());
            *error = shape(Some(shaper), this.method, taken);
        }
        Poll::Ready(answer)
    }
}

/// A call dropped before it ended (its request timed out, its connection closed) still ends
/// for its layers: their `after` hooks see the error -32000 "Call cancelled".
impl Drop for Guarded<'_> {
    fn drop(&mut self) {
        let Some(future) = self.future.take() else {
            return;
        };
        drop_quietly(Some(future));
        if let Some(layered) = self.layered.take() {
            let cancelled = ErrorObject::server_error(-32000, "Call cancelled");
            let _ = layered.after(Err(&cancelled));
        }
    }
}

/// Drops a call's future, whose code (a method's, a layer's) may panic in its destructor:
/// the panic is logged, and goes no further than this call.
fn drop_quietly(future: Option<Running<'_>>) {
    if future.is_some() && catch_unwind(AssertUnwindSafe(|| drop(future))).is_err() {
        tracing::error!("a call's future panicked as it was dropped");
    }
}
