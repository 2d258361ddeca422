//! Subscribe calls that wait for their method to decide ([`PendingSink`]): the call's future
//! runs the method until it accepts (the answer is the id, and the subscription starts once
//! it is written) or refuses (the answer is its error). Over a transport that can push only:
//! elsewhere a subscribe call is refused before its method runs.
//!
//! [`PendingSink`]: crate::PendingSink

use std::sync::Arc;

use crate::boxed::BoxFuture;
use crate::call::{CallTrace, Running};
use crate::dispatch::push::Pushing;
use crate::dispatch::{answer_error, pending, Mode, Started};
use crate::layer::Layered;
use crate::method::{Method, SubscribeFn};
use crate::request::Request;
use crate::subscription::{Deciding, Decision, Outbox};
use crate::{Answer, Context, ErrorObject, Params, Router};

/// What a deciding subscribe call runs with: its method's callback, the message it is
/// part of, and the connection's outbox.
type How<'a, 'r, S> = (&'r SubscribeFn<S>, &'a Pushing<'r, S>, &'r Outbox);

impl<S: Send + Sync + 'static> Router<S> {
    /// Where a subscribe call of `method` decides before it is answered: a subscription
    /// that decides, with an id to answer, over a transport that can push.
    pub(crate) fn decides<'a, 'r: 'a>(
        &'r self,
        method: &Method<S>,
        request: &Request<'_>,
        cx: &'r Context<'r>,
        mode: Mode<'a, 'r, S>,
    ) -> Option<(&'a Pushing<'r, S>, &'r Outbox)> {
        let decides = method.info.subscription.as_ref().is_some_and(|s| s.pending);
        match (mode, cx.outbox()) {
            (Mode::Push(pushing), Some(outbox)) if decides && request.id.is_some() => {
                Some((pushing, outbox))
            }
            _ => None,
        }
    }

    /// The future of a subscribe call that decides: opens the subscription (it counts
    /// against the connection's limit from now), and runs its method until it decides.
    pub(crate) fn deciding<'a, 'r: 'a>(
        &'r self,
        method: &'r Method<S>,
        (subscribe, pushing, outbox): How<'a, 'r, S>,
        params: Params<'_>,
    ) -> Result<BoxFuture<'a, Answer>, ErrorObject> {
        let decision = Arc::new(Decision::default());
        let decides = Some(Arc::clone(&decision));
        let cx = pushing.cx;
        let (future, sink) = self.open_future(method, subscribe, params, cx, outbox, decides)?;
        let open = move |subscription| pushing.open(subscription);
        let name = &*method.info.name;
        Ok(Box::pin(Deciding::new(future, decision, &sink, name, open)))
    }

    /// Starts a subscribe call that decides, without async layers: its answer waits, as an
    /// async method's does.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start_deciding<'a, 'r: 'a>(
        &'r self,
        method: &'r Method<S>,
        how: How<'a, 'r, S>,
        request: Request<'a>,
        kept: Option<Box<Layered<'a>>>,
        trace: Option<CallTrace>,
        out: &mut Vec<u8>,
        cx: &'r Context<'r>,
    ) -> Started<'a> {
        let name = &*method.info.name;
        let entered = trace.as_ref().map(|trace| trace.span.enter());
        let started = self.deciding(method, how, request.params);
        drop(entered);
        match started {
            Ok(future) => {
                let shape = self.params_shaper.as_deref();
                pending(
                    Running::Chain(future),
                    name,
                    request,
                    kept,
                    trace,
                    cx,
                    shape,
                )
            }
            Err(error) => {
                if let Some(trace) = trace {
                    trace.end(Some(&error));
                }
                let error = Layered::finish(kept.as_deref(), Err(&error)).unwrap_or(error);
                answer_error(out, request.id.as_ref(), &self.shape(name, error))
            }
        }
    }
}
