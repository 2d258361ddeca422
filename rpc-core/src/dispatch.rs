//! The dispatcher: request bytes in, response bytes (or nothing) out.

use std::borrow::Cow;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll, Waker};

use crate::batch::join_all;
use crate::call::{panicked, too_large, CallTrace, Guarded};
use crate::cancel::Silence;
use crate::context::EMPTY;
use crate::layer::Layered;
use crate::method::Callback;
use crate::push::{refused, unsubscribe};
use crate::request::{parse_body, Body, Entry};
use crate::response::{write_end, write_error, write_result_start};
use crate::subscription::{RawSink, Subscription};
use crate::{Context, ErrorCode, ErrorObject, Id, NotSync, Router};

/// The callbacks that answer at once: sync methods, and the built-in ones (unsubscribe, and
/// with the `openrpc` feature, discovery), as a pattern.
#[cfg(not(feature = "openrpc"))]
macro_rules! sync_callbacks {
    () => {
        Callback::Sync(_) | Callback::Unsubscribe
    };
}

/// The callbacks that answer at once: sync methods, and the built-in ones (unsubscribe, and
/// with the `openrpc` feature, discovery), as a pattern.
#[cfg(feature = "openrpc")]
macro_rules! sync_callbacks {
    () => {
        Callback::Sync(_) | Callback::Unsubscribe | Callback::Discover
    };
}

/// The most buffer reserved for a batch's answer before it is written.
const MAX_UP_FRONT: usize = 64 * 1024;

/// What to do with the calls of a body.
#[derive(Clone, Copy)]
pub(crate) enum Mode<'e, 'r> {
    /// Run them; a subscribe call is refused (the transport cannot push).
    Run,
    /// Run none; answer each call that has an id with this error.
    Reject(&'e ErrorObject),
    /// Run them; subscriptions start, into this list, for the transport to drive.
    Push(&'e Mutex<Vec<Subscription<'r>>>),
}

/// How far handling one call got without waiting.
enum Started<'a> {
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
    /// Handles one request body: a single call, a notification, or a batch.
    ///
    /// Returns the response body, or `None` when no response is due (a notification, or a batch
    /// of notifications only). Every failure is a response: malformed JSON is -32700, an
    /// invalid request object -32600, an unknown method -32601, and a panic inside a method
    /// -32603 for that call alone.
    ///
    /// ```
    /// use rpc_core::{Method, Params, Router};
    ///
    /// let mut router = Router::new();
    /// router.register(Method::new_sync("add", |_: &(), params: Params<'_>| {
    ///     let (a, b): (i64, i64) = params.parse()?;
    ///     Ok::<_, rpc_core::ErrorObject>(a + b)
    /// }))?;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let response = router.handle(br#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#).await;
    /// assert_eq!(response.as_deref(), Some(&br#"{"jsonrpc":"2.0","result":5,"id":1}"#[..]));
    ///
    /// // A notification is run, but not answered.
    /// assert_eq!(router.handle(br#"{"jsonrpc":"2.0","method":"add","params":[2,3]}"#).await, None);
    /// # });
    /// # Ok::<(), rpc_core::RegisterError>(())
    /// ```
    pub fn handle<'a>(&'a self, body: &'a [u8]) -> impl Future<Output = Option<Vec<u8>>> + 'a {
        // The future of `handle_with` itself: no layer of future around it.
        self.handle_with(body, &EMPTY)
    }

    /// Handles one request body as [`Router::handle`] does, with the [`Context`] the
    /// transport filled: every call of the body sees it.
    ///
    /// ```
    /// use rpc_core::{rpc_method, Context, Ext, Extensions, Router};
    ///
    /// #[derive(Clone)]
    /// struct User(&'static str);
    ///
    /// /// Says who calls.
    /// #[rpc_method]
    /// fn whoami(user: Ext<'_, User>) -> &'static str {
    ///     user.0
    /// }
    ///
    /// let mut router = Router::new();
    /// router.register(whoami::method())?;
    /// let mut extensions = Extensions::new();
    /// extensions.insert(User("ada"));
    /// let cx = Context::new().with_extensions(&extensions);
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let call = br#"{"jsonrpc":"2.0","method":"whoami","id":1}"#;
    /// let response = router.handle_with(call, &cx).await;
    /// assert_eq!(response.as_deref(), Some(&br#"{"jsonrpc":"2.0","result":"ada","id":1}"#[..]));
    /// # });
    /// # Ok::<(), rpc_core::RegisterError>(())
    /// ```
    pub async fn handle_with(&self, body: &[u8], cx: &Context<'_>) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(128);
        self.handle_into(body, &mut out, cx, Mode::Run)
            .await
            .then_some(out)
    }

    /// Answers a body without running any of its calls: each call that has an id gets `error`
    /// (malformed bodies and invalid requests get their usual errors). This is the answer a
    /// transport sends when it gives up on a request, for instance at a time limit.
    ///
    /// ```
    /// use rpc_core::{ErrorObject, Router};
    ///
    /// let router = Router::new();
    /// let timeout = ErrorObject::server_error(-32000, "Request timed out");
    /// let body = br#"[{"jsonrpc":"2.0","method":"slow","id":1},{"jsonrpc":"2.0","method":"slow"}]"#;
    /// assert_eq!(
    ///     router.reject(body, &timeout).as_deref(),
    ///     Some(&br#"[{"jsonrpc":"2.0","error":{"code":-32000,"message":"Request timed out"},"id":1}]"#[..])
    /// );
    /// ```
    pub fn reject(&self, body: &[u8], error: &ErrorObject) -> Option<Vec<u8>> {
        // Rejecting never waits: no method runs.
        self.now(body, &EMPTY, Mode::Reject(error))
    }

    /// Handles one request body as [`Router::handle`] does, but at once, without a future,
    /// for a router whose methods are all sync ([`Router::is_sync`]): a transport can then
    /// answer without allocating a future for the request. With any async method registered,
    /// it runs nothing and returns [`NotSync`].
    ///
    /// ```
    /// use rpc_core::{Method, Params, Router};
    ///
    /// let mut router = Router::new();
    /// router.register(Method::new_sync("ping", |_: &(), _: Params<'_>| {
    ///     Ok::<_, rpc_core::ErrorObject>("pong")
    /// }))?;
    /// let response = router.handle_sync(br#"{"jsonrpc":"2.0","method":"ping","id":1}"#);
    /// assert_eq!(response.unwrap().as_deref(), Some(&br#"{"jsonrpc":"2.0","result":"pong","id":1}"#[..]));
    ///
    /// router.register(Method::new_async("later", |_: &(), _: Params<'_>| Box::pin(async {
    ///     Ok::<_, rpc_core::ErrorObject>("done")
    /// })))?;
    /// assert!(router.handle_sync(br#"{"jsonrpc":"2.0","method":"ping","id":1}"#).is_err());
    /// # Ok::<(), rpc_core::RegisterError>(())
    /// ```
    pub fn handle_sync(&self, body: &[u8]) -> Result<Option<Vec<u8>>, NotSync> {
        self.handle_sync_with(body, &EMPTY)
    }

    /// [`Router::handle_sync`] with the [`Context`] the transport filled, as
    /// [`Router::handle_with`] takes it.
    pub fn handle_sync_with(
        &self,
        body: &[u8],
        cx: &Context<'_>,
    ) -> Result<Option<Vec<u8>>, NotSync> {
        if !self.is_sync() {
            return Err(NotSync);
        }
        Ok(self.now(body, cx, Mode::Run))
    }

    /// Handles a body that cannot wait (its calls are all sync, or none runs) on the spot.
    pub(crate) fn now<'r>(
        &'r self,
        body: &[u8],
        cx: &'r Context<'r>,
        mode: Mode<'_, 'r>,
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
        mode: Mode<'_, 'r>,
    ) -> bool {
        match parse_body(body, self.batch_limit()) {
            Err(err) => {
                write_error(out, None, &ErrorObject::parse_error().with_data(err));
                true
            }
            Ok(Body::Single(entry)) => match self.start(entry, out, cx, mode) {
                Started::Done { answered } => answered,
                Started::Pending { id, call, silence } => {
                    let outcome = call.await;
                    if silence.is_some_and(|silence| silence.is_silent()) {
                        return false;
                    }
                    id.is_some_and(|id| {
                        write_outcome(out, &id, outcome);
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
        mode: Mode<'_, 'r>,
    ) -> bool {
        let start = out.len();
        out.push(b'[');
        // For each async call: where its response goes, counted from `start`, and its id.
        let mut slots = Vec::new();
        let mut calls = Vec::new();
        for entry in entries {
            match self.start(entry, out, cx, mode) {
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
                    write_outcome(out, &id, outcome);
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
    fn start<'a, 'r: 'a>(
        &'r self,
        entry: Entry<'a>,
        out: &mut Vec<u8>,
        cx: &'r Context<'r>,
        mode: Mode<'_, 'r>,
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
            let id = request.id.as_ref();
            let call = layered.insert(Layered::new(
                &self.layers,
                &request.method,
                id,
                request.params,
                cx,
            ));
            if let Err(refusal) = call.before() {
                return answer_error(out, id, &refusal);
            }
        }
        let Some(method) = self.lookup(&request.method) else {
            // The caller cancels a call it sent: no method, no answer.
            if let Some(cancellation) = cx.cancellation() {
                if request.id.is_none() && request.method == cancellation.dialect().cancel_method()
                {
                    cancellation.cancel(request.params);
                    return Started::Done { answered: false };
                }
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
                        let kept = layered.map(|layered| {
                            let id = request.id.clone();
                            let kept = layered.keep(&self.layers, name, id, request.params, cx);
                            Box::new(kept)
                        });
                        let cancel = cx
                            .cancellation()
                            .zip(request.id.as_ref())
                            .map(|(cancellation, id)| cancellation.register(id));
                        Started::Pending {
                            silence: cancel.as_ref().and_then(|cancel| cancel.silence()),
                            call: Guarded {
                                future: Some(future),
                                method: name,
                                trace,
                                layered: kept,
                                max_result_len: cx.max_result_len(),
                                cancel,
                            },
                            id: request.id,
                        }
                    }
                    Err(panic) => {
                        let error = panicked(name, &*panic);
                        let error = Layered::finish(layered.as_ref(), Err(&error)).unwrap_or(error);
                        answer_error(out, request.id.as_ref(), &error)
                    }
                }
            }
            Callback::Subscribe(subscribe) => {
                let started = match (mode, cx.outbox()) {
                    (Mode::Push(started), Some(outbox)) => Some((started, outbox)),
                    _ => None,
                };
                let outcome = match (&request.id, started) {
                    (_, None) => Err(ErrorObject::server_error(
                        ErrorCode::SUBSCRIPTION_NEEDS_WEBSOCKET.code(),
                        "Subscriptions need a WebSocket connection",
                    )
                    .with_data(format!(
                        "`{name}` pushes notifications: call it over a WebSocket"
                    ))),
                    (None, Some(_)) => {
                        // Its id would be answered to no one: nothing starts.
                        tracing::debug!(method = name, "a subscribe notification starts nothing");
                        Ok(None)
                    }
                    (Some(_), Some((started, outbox))) => {
                        let (notification, unsubscribe) = match &method.info.subscription {
                            Some(info) => (&*info.notification, info.unsubscribe.clone()),
                            None => (name, Cow::Borrowed("")),
                        };
                        let entered = trace.as_ref().map(|trace| trace.span.enter());
                        let opened = outbox
                            .open(notification, unsubscribe)
                            .map_err(refused)
                            .and_then(|(id, head)| {
                                let sink = RawSink::new(outbox.clone(), id, head);
                                let future = catch_unwind(AssertUnwindSafe(|| {
                                    subscribe(self.state(), cx, request.params, sink)
                                }))
                                .unwrap_or_else(|panic| Err(panicked(name, &*panic)));
                                match future {
                                    Ok(future) => Ok(Some((
                                        started,
                                        Subscription::new(outbox.clone(), id, future),
                                    ))),
                                    Err(err) => {
                                        outbox.end(id);
                                        Err(err)
                                    }
                                }
                            });
                        drop(entered);
                        opened
                    }
                };
                if let Some(trace) = trace {
                    trace.end(outcome.as_ref().err());
                }
                let id_text = match &outcome {
                    Ok(Some((_, subscription))) => Cow::Owned(format!("\"{}\"", subscription.id())),
                    _ => Cow::Borrowed("null"),
                };
                let result = outcome.as_ref().map(|_| id_text.as_bytes());
                let replaced = Layered::finish(layered.as_ref(), result);
                match (outcome, replaced) {
                    (Err(error), None) | (Ok(_), Some(error)) | (Err(_), Some(error)) => {
                        answer_error(out, request.id.as_ref(), &error)
                    }
                    (Ok(started), None) => {
                        if let (Some(id), Some((list, subscription))) = (&request.id, started) {
                            write_result_start(out);
                            out.extend_from_slice(id_text.as_bytes());
                            write_end(out, Some(id));
                            list.lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .push(subscription);
                        }
                        Started::Done {
                            answered: request.id.is_some(),
                        }
                    }
                }
            }
            sync_callbacks!() => {
                let mark = out.len();
                write_result_start(out);
                let result_at = out.len();
                let entered = trace.as_ref().map(|trace| trace.span.enter());
                let mut outcome = catch_unwind(AssertUnwindSafe(|| match &method.callback {
                    Callback::Sync(call) => call(self.state(), cx, request.params, out),
                    #[cfg(feature = "openrpc")]
                    Callback::Discover => self.write_document(request.params, out),
                    _ => unsubscribe(cx, name, request.params, out),
                }))
                .unwrap_or_else(|panic| Err(panicked(name, &*panic)));
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
                        write_error(out, Some(id), &error);
                    }
                }
                Started::Done {
                    answered: request.id.is_some(),
                }
            }
        }
    }
}

/// Answers a call with `error` now, unless it is a notification.
fn answer_error<'a>(out: &mut Vec<u8>, id: Option<&Id<'_>>, error: &ErrorObject) -> Started<'a> {
    if let Some(id) = id {
        write_error(out, Some(id), error);
    }
    Started::Done {
        answered: id.is_some(),
    }
}

/// Appends the response to an async call.
fn write_outcome(out: &mut Vec<u8>, id: &Id<'_>, outcome: Result<Vec<u8>, ErrorObject>) {
    match outcome {
        Ok(result) => {
            write_result_start(out);
            out.extend_from_slice(&result);
            write_end(out, Some(id));
        }
        Err(error) => write_error(out, Some(id), &error),
    }
}
