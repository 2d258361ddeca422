//! The end of the async layers' chain: where a call that went through them runs its method,
//! over a transport that cannot push (the router) or one that can (a message being pushed).

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::call::panicked;
use crate::layer::{Endpoint, Innermost};
use crate::method::Callback;
use crate::push::{needs_push, Pushing};
use crate::{Answer, Call, Context, ErrorObject, Params, Router};

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
            Callback::Subscribe(_) => ready(Err(needs_push(name))),
            _ => {
                // A buffer of its own: the layers see the result before it is written.
                let mut out = Vec::new();
                let result = self.call_sync(method, call.context(), call.params(), &mut out);
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
            return ready(Err(needs_push(name)));
        };
        if call.is_notification() {
            // Its id would be answered to no one: nothing starts.
            tracing::debug!(method = name, "a subscribe notification starts nothing");
            return ready(Ok(b"null".to_vec()));
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
