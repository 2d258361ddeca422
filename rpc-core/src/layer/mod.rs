//! Per-call middleware: hooks that run around every call, whatever body it came in, and
//! (in `chain`) async layers that wrap its future.

mod chain;

pub use chain::{Answer, AsyncCallLayer, Next};
pub(crate) use chain::{Endpoint, Innermost};

use std::borrow::Cow;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::{Context, ErrorObject, Id, Params};

/// A layer around each call: runs exactly once per call, for a single call, each call of a
/// batch and each notification alike, sync and async methods alike.
///
/// [`before`](CallLayer::before) sees the call before its method runs and may answer it
/// itself with an error (a rate limit, an access rule): the method then does not run.
/// [`after`](CallLayer::after) sees how the call ended, and [`Call::elapsed`] how long it
/// took. Both have defaults that do nothing, so a layer writes only the hook it needs.
///
/// # Order
/// Layers run in the order they were added to the router ([`Router::layer`]): the first
/// added is the outermost. Its `before` runs first and its `after` last, as with tower's
/// `ServiceBuilder`. A layer whose `before` answers the call stops it there: the layers
/// inside it and the method do not run, and the `after` of each layer outside it sees the
/// answer. A layer's own `after` runs only when its `before` let the call through.
///
/// # Why not a tower `Service`
/// A tower `Service` per call returns a future per call: boxed, or a type that every layer
/// must name. A sync method's call allocates nothing today, and a layer must not change
/// that. Two plain hooks cost a virtual call each and no allocation, keep the sync path
/// free of futures, and still do what per-call middleware is for. HTTP-level middleware
/// (authentication, CORS, compression) stays tower's: put those layers in front of the
/// endpoint, and read what they found through the call's [`Context`].
///
/// # Faults
/// A hook that panics is -32603 "Internal error" for that call alone; the rest of a batch,
/// and the connection, go on. A notification a layer refuses is not answered (the
/// specification forbids it); the refusal is logged at debug level. An async call dropped
/// before it ends (its request timed out, its connection closed) still gets its `after`
/// hooks, with the error -32000 "Call cancelled": `before` and `after` always pair up.
///
/// ```
/// use rpc_core::{Call, CallLayer, ErrorObject, Outcome, Router};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// /// Refuses every method but those it allows, and counts the calls it saw end.
/// struct Allow {
///     methods: &'static [&'static str],
///     ended: AtomicU64,
/// }
///
/// impl CallLayer for Allow {
///     fn before(&self, call: &Call<'_>) -> Result<(), ErrorObject> {
///         if self.methods.contains(&call.method()) {
///             Ok(())
///         } else {
///             Err(ErrorObject::new(4003, "Forbidden"))
///         }
///     }
///
///     fn after(&self, _call: &Call<'_>, _outcome: Outcome<'_>) {
///         self.ended.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// let mut router = Router::new();
/// router.layer(Allow { methods: &["ping"], ended: AtomicU64::new(0) });
/// ```
///
/// [`Router::layer`]: crate::Router::layer
pub trait CallLayer: Send + Sync + 'static {
    /// Runs before the call's method. `Err` answers the call with that error instead: the
    /// method does not run.
    fn before(&self, call: &Call<'_>) -> Result<(), ErrorObject> {
        let _ = call;
        Ok(())
    }

    /// Runs once the call has ended, with its outcome; [`Call::elapsed`] tells how long it
    /// took.
    fn after(&self, call: &Call<'_>, outcome: Outcome<'_>) {
        let _ = (call, outcome);
    }
}

/// One call, as a layer sees it: a [`CallLayer`]'s hooks, an [`AsyncCallLayer`]'s future.
#[derive(Clone, Debug)]
pub struct Call<'a> {
    method: &'a str,
    /// Borrowed from the request by the sync layers; owned by a call that waits.
    id: Option<Cow<'a, Id<'a>>>,
    params: Params<'a>,
    context: &'a Context<'a>,
    started: Instant,
}

impl<'a> Call<'a> {
    /// The call, reaching the first layer now.
    #[inline]
    pub(crate) fn new(
        method: &'a str,
        id: Option<Cow<'a, Id<'a>>>,
        params: Params<'a>,
        context: &'a Context<'a>,
    ) -> Self {
        Call {
            method,
            id,
            params,
            context,
            started: Instant::now(),
        }
    }

    /// The method the call names (registered or not).
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The call's id; `None` for a notification.
    pub fn id(&self) -> Option<&Id<'a>> {
        self.id.as_deref()
    }

    /// Whether the call is a notification: no answer is due.
    pub fn is_notification(&self) -> bool {
        self.id.is_none()
    }

    /// The params, as JSON text not yet decoded.
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// The call's context: what the transport knows of it.
    pub fn context(&self) -> &'a Context<'a> {
        self.context
    }

    /// When the call reached the first layer.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// How long since the call reached the first layer: in [`CallLayer::after`], how long
    /// the call took. (Read when asked, so that a layer that does not ask pays no clock.)
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// How a call ended, as [`CallLayer::after`] sees it: a result, or an error.
#[derive(Clone, Copy, Debug)]
pub struct Outcome<'a>(Result<&'a [u8], &'a ErrorObject>);

impl<'a> Outcome<'a> {
    /// Whether the method answered with a result.
    pub fn is_ok(&self) -> bool {
        self.0.is_ok()
    }

    /// The error the call failed with, or was refused with; `None` for a result.
    pub fn error(&self) -> Option<&'a ErrorObject> {
        self.0.err()
    }

    /// The error's code; `None` for a result.
    pub fn error_code(&self) -> Option<i32> {
        self.error().map(ErrorObject::code)
    }

    /// The result, as the JSON text written into the answer; `None` for an error.
    pub fn result_json(&self) -> Option<&'a str> {
        // serde_json wrote it: UTF-8. Checked here, when asked, not on every call.
        self.0.ok().and_then(|json| std::str::from_utf8(json).ok())
    }
}

/// A call that went through the `before` of some layers: what their `after` needs. An async
/// call's future keeps it (boxed) until the call ends.
pub(crate) struct Layered<'a> {
    layers: &'a [Box<dyn CallLayer>],
    /// How many layers let the call through, from the outermost.
    passed: usize,
    call: Call<'a>,
}

impl<'a> Layered<'a> {
    /// The call, about to go through `layers`: none has run yet.
    #[inline]
    pub(crate) fn new(layers: &'a [Box<dyn CallLayer>], call: Call<'a>) -> Self {
        Layered {
            layers,
            passed: 0,
            call,
        }
    }

    /// What the `after` hooks need once a call that waits ends, for its future to keep:
    /// `call` is the same call, with borrows that last as long as the future.
    pub(crate) fn keep<'k>(&self, layers: &'k [Box<dyn CallLayer>], call: Call<'k>) -> Layered<'k> {
        Layered {
            layers,
            passed: self.passed,
            call: Call {
                started: self.call.started,
                ..call
            },
        }
    }

    /// Runs the layers' `before` hooks. `Err` is the call's answer: a layer refused it, or
    /// panicked; the `after` hooks of the layers outside it have run.
    pub(crate) fn before(&mut self) -> Result<(), ErrorObject> {
        // One unwinding guard for the lot: a panic stops the call where it happened.
        let passed = &mut self.passed;
        let call = &self.call;
        let layers = self.layers;
        let ran = catch_unwind(AssertUnwindSafe(|| {
            for layer in layers {
                layer.before(call)?;
                *passed += 1;
            }
            Ok(())
        }));
        let refusal = match ran {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) => error,
            Err(_) => {
                tracing::error!(method = self.call.method(), "a call layer panicked");
                ErrorObject::internal_error()
            }
        };
        if self.call.is_notification() {
            tracing::debug!(
                method = self.call.method(),
                code = refusal.code(),
                "a notification was refused by a call layer"
            );
        }
        Err(self.after(Err(&refusal)).unwrap_or(refusal))
    }

    /// Ends a call that may have layers: runs their `after` hooks with the call's result
    /// (its JSON) or error. Returns the error that replaces the call's answer when a hook
    /// panicked.
    ///
    /// Inlined, so that a router without layers tests one discriminant and moves nothing.
    #[inline]
    pub(crate) fn finish(
        layered: Option<&Self>,
        outcome: Result<&[u8], &ErrorObject>,
    ) -> Option<ErrorObject> {
        match layered {
            None => None,
            Some(layered) => layered.after(outcome),
        }
    }

    /// Runs the `after` hooks of the layers that let the call through, innermost first.
    /// Returns the error that replaces the call's answer when a hook panicked: the layers
    /// outside the one that panicked see that error.
    pub(crate) fn after(&self, outcome: Result<&[u8], &ErrorObject>) -> Option<ErrorObject> {
        let mut replaced: Option<ErrorObject> = None;
        let mut left = self.passed;
        while left > 0 {
            let seen = match &replaced {
                Some(error) => Outcome(Err(error)),
                None => Outcome(outcome),
            };
            // One unwinding guard for all the hooks left, renewed only after a panic.
            let ran = catch_unwind(AssertUnwindSafe(|| {
                while left > 0 {
                    left -= 1;
                    self.layers[left].after(&self.call, seen);
                }
            }));
            if ran.is_err() {
                tracing::error!(method = self.call.method(), "a call layer panicked");
                replaced = Some(ErrorObject::internal_error());
            }
        }
        replaced
    }
}

impl fmt::Debug for dyn CallLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallLayer")
    }
}
