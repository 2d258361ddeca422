//! Async call layers: each wraps the rest of the chain, down to the call's method, in a
//! future of its own.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use serde::Serialize;

use super::{Call, Outcome};
use crate::boxed::BoxFuture;
use crate::subscription::SubscriptionId;
use crate::ErrorObject;

/// A layer around each call that can wait: look a token up in a database, ask a rate limiter
/// that waits its turn, write to an async sink.
///
/// [`call`](AsyncCallLayer::call) gets the call and the rest of the chain, [`Next`]: it
/// returns a future that may answer the call itself (an error, say) without running on, or
/// run on with [`Next::run`] and look at the answer, or replace it. It runs exactly once per
/// call, for a single call, each call of a batch and each notification alike, over every
/// transport (but for what the section below names).
///
/// # Order
/// Async layers run in the order they were added ([`Router::async_layer`]): the first added
/// is the outermost. They sit inside the sync [`CallLayer`](crate::CallLayer)s: a sync
/// layer's `before` runs before any async layer, its `after` once the async layers are done.
///
/// # Cost
/// A router without async layers runs as it did: nothing of this is touched. With one, every
/// call waits in the layer's future (one box per layer and call), even a sync method's, and
/// a sync method's result is written into a buffer of its own, for the layer to see.
///
/// # Faults
/// A layer that panics, in `call` or in its future, is -32603 "Internal error" for that call
/// alone, and so is a method that panics: the layers outside see that answer. A layer that
/// never completes is ended by the request's time limit (`request_timeout` of the HTTP
/// endpoint and of the connection transports, 30 s by default), or when its caller cancels
/// the call or the connection closes. A notification a layer answers with an error gets no
/// answer (the specification forbids one).
///
/// # What does not go through them
/// The protocol's cancel notification (`$/cancelRequest`, `notifications/cancelled`) reaches
/// the call it cancels without them, whatever a rate limit would do with it; so does a call
/// to an unregistered name spelled with escapes (answered -32601), and a call read while the
/// connection drains (answered -32012). The layers see a call's name as the caller sent it,
/// an alias as the alias.
///
/// ```
/// use rpc_core::{Answer, AsyncCallLayer, BoxFuture, Call, ErrorObject, Next, Router};
///
/// /// Lets a call through only with a known key in its `x-api-key` header.
/// struct ApiKey;
///
/// impl AsyncCallLayer for ApiKey {
///     fn call<'a>(&'a self, call: Call<'a>, next: Next<'a>) -> BoxFuture<'a, Answer> {
///         Box::pin(async move {
///             let key = call.context().headers().and_then(|h| h.get("x-api-key"));
///             let known = match key {
///                 Some(key) => lookup(key.as_bytes()).await,
///                 None => false,
///             };
///             if !known {
///                 return ErrorObject::new(4001, "Unknown API key").into();
///             }
///             next.run(call).await
///         })
///     }
/// }
///
/// /// A store that answers after an await.
/// async fn lookup(key: &[u8]) -> bool {
///     key == b"k-123"
/// }
///
/// let mut router = Router::new();
/// router.async_layer(ApiKey);
/// ```
///
/// [`Router::async_layer`]: crate::Router::async_layer
pub trait AsyncCallLayer: Send + Sync + 'static {
    /// Handles `call`: run the rest of the chain with `next.run(call).await`, or answer
    /// without it.
    fn call<'a>(&'a self, call: Call<'a>, next: Next<'a>) -> BoxFuture<'a, Answer>;
}

impl fmt::Debug for dyn AsyncCallLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AsyncCallLayer")
    }
}

/// What a call answers, as an [`AsyncCallLayer`] sees it: a result's JSON, or an error.
///
/// A layer makes one of its own with [`Answer::result`] or from an [`ErrorObject`].
pub struct Answer {
    pub(crate) result: Result<Vec<u8>, ErrorObject>,
    /// The subscription the call opened, if it was a subscribe call: it starts only if this
    /// answer is the one the caller gets.
    pub(crate) opened: Option<SubscriptionId>,
}

impl Answer {
    /// An answer with `value` as its result. A value that cannot be written as JSON (a map
    /// with non-string keys) answers -32603 instead.
    pub fn result<T: Serialize + ?Sized>(value: &T) -> Self {
        let result = serde_json::to_vec(value).map_err(|err| {
            tracing::error!(%err, "a layer's result cannot be written as JSON");
            ErrorObject::internal_error()
        });
        Self::from_result(result)
    }

    /// An answer with `error`.
    pub fn error(error: ErrorObject) -> Self {
        Self::from_result(Err(error))
    }

    pub(crate) fn from_result(result: Result<Vec<u8>, ErrorObject>) -> Self {
        Self {
            result,
            opened: None,
        }
    }

    /// The answer, as a [`CallLayer`](crate::CallLayer)'s `after` sees it: whether it is a
    /// result, its JSON text, or its error.
    pub fn outcome(&self) -> Outcome<'_> {
        Outcome(self.result.as_ref().map(Vec::as_slice))
    }

    /// Whether the call answers with a result.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The error the call answers with; `None` for a result.
    pub fn error_object(&self) -> Option<&ErrorObject> {
        self.result.as_ref().err()
    }
}

impl From<ErrorObject> for Answer {
    fn from(error: ErrorObject) -> Self {
        Self::error(error)
    }
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.outcome().result_json() {
            Some(json) => f.debug_tuple("Answer::Result").field(&json).finish(),
            None => f
                .debug_tuple("Answer::Error")
                .field(&self.error_object())
                .finish(),
        }
    }
}

/// The rest of the chain, inside an [`AsyncCallLayer`]: the layers after it, then the call's
/// method.
pub struct Next<'a> {
    rest: &'a [Box<dyn AsyncCallLayer>],
    endpoint: &'a dyn Endpoint,
}

impl<'a> Next<'a> {
    pub(crate) fn new(rest: &'a [Box<dyn AsyncCallLayer>], endpoint: &'a dyn Endpoint) -> Self {
        Self { rest, endpoint }
    }

    /// Runs the rest of the chain for `call`, and gives its answer. A panic inside it (in a
    /// layer, or in the method) is answered -32603: the layers outside it see that answer.
    pub async fn run(self, call: Call<'a>) -> Answer {
        match self.rest.split_first() {
            Some((layer, rest)) => {
                let method = call.method();
                let next = Next::new(rest, self.endpoint);
                match catch_unwind(AssertUnwindSafe(|| layer.call(call, next))) {
                    Ok(future) => Caught { future, method }.await,
                    Err(_) => layer_panicked(method),
                }
            }
            None => self.endpoint.run(call).await,
        }
    }
}

impl fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next")
            .field("layers", &self.rest.len())
            .finish_non_exhaustive()
    }
}

/// What runs a call at the end of the chain: the router, with what the transport allows.
pub(crate) trait Endpoint: Sync {
    /// Runs the call's method (or answers that there is none).
    fn run<'a>(&'a self, call: Call<'a>) -> Innermost<'a>;
}

/// The call itself, at the end of the chain: answered already (a sync method), or an async
/// method's future. Not boxed again: a sync method under a layer pays only the layer's box.
pub(crate) enum Innermost<'a> {
    Ready(Option<Answer>),
    Method(BoxFuture<'a, Result<Vec<u8>, ErrorObject>>),
    /// A subscribe call whose method decides before it is answered.
    Deciding(BoxFuture<'a, Answer>),
}

impl Future for Innermost<'_> {
    type Output = Answer;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Answer> {
        let this = self.get_mut();
        // A method's panic is -32603 here already, for every layer to see as such.
        let polled = catch_unwind(AssertUnwindSafe(|| match this {
            // Polled again after it answered: an answer rather than a panic.
            Innermost::Ready(answer) => Poll::Ready(
                answer
                    .take()
                    .unwrap_or_else(|| ErrorObject::internal_error().into()),
            ),
            Innermost::Method(future) => future.as_mut().poll(task).map(Answer::from_result),
            Innermost::Deciding(future) => future.as_mut().poll(task),
        }));
        polled.unwrap_or_else(|panic| {
            *this = Innermost::Ready(None);
            Poll::Ready(crate::call::panicked("(under an async layer)", &*panic).into())
        })
    }
}

/// A layer's future, whose panic is answered -32603.
struct Caught<'a> {
    future: BoxFuture<'a, Answer>,
    method: &'a str,
}

impl Future for Caught<'_> {
    type Output = Answer;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Answer> {
        let this = self.get_mut();
        match catch_unwind(AssertUnwindSafe(|| this.future.as_mut().poll(task))) {
            Ok(polled) => polled,
            Err(_) => Poll::Ready(layer_panicked(this.method)),
        }
    }
}

/// The answer for a call whose layer panicked.
fn layer_panicked(method: &str) -> Answer {
    tracing::error!(method, "an async call layer panicked");
    ErrorObject::internal_error().into()
}
