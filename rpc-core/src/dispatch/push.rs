//! Handling requests for a transport that can push (a WebSocket): the subscriptions the
//! calls start are handed to the transport with the response.

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};

use crate::boxed::BoxFuture;
use crate::call::{panicked, CallTrace};
use crate::dispatch::chained::is_cancel;
use crate::dispatch::{answer_error, Mode, Started};
use crate::layer::Layered;
use crate::method::Callback;
use crate::method::{Method, SubscribeFn};
use crate::params::Params;
use crate::request::Request;
use crate::request::{parse_body, Body, Entry};
use crate::response::write_json;
use crate::response::{write_end, write_result_start};
use crate::subscription::{Decision, Outbox, RawSink};
use crate::subscription::{Refused, Subscription, SubscriptionId};
use crate::{Context, ErrorCode, ErrorObject, NotSync, Router};

/// What handling a body over a connection that can push gives: the response, and the
/// subscriptions its calls started.
///
/// The transport writes the response first, then drives the subscriptions (polls them until
/// they end, on the connection's task or another): no item of a subscription can then come
/// before the answer that gave its id.
#[derive(Debug)]
#[non_exhaustive]
pub struct Handled<'r> {
    /// The response body, or `None` when none is due.
    pub response: Option<Vec<u8>>,
    /// The subscriptions started, to be driven once the response is written.
    pub subscriptions: Vec<Subscription<'r>>,
}

/// When a message of a connection may run, beside the others: what a transport that runs a
/// connection's messages concurrently must keep to (`rpc-hyper`'s engine does).
///
/// - Requests run concurrently ([`Order::Concurrent`]).
/// - A notification is handled before any later message starts ([`Order::Before`]), so
///   notifications are handled in the order they came, and what they change is seen by what
///   comes after (LSP's `didChange`).
/// - A call of an [ordered](crate::Method::ordered) method runs alone ([`Order::Alone`]): once
///   every earlier message has ended, and before any later one starts.
///
/// A batch takes the strictest order among its calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Order {
    /// Runs beside the others.
    Concurrent,
    /// No later message starts before it ends.
    Before,
    /// Starts once every earlier message has ended; no later message starts before it ends.
    Alone,
}

/// How far [`Router::begin_push`] got with a message.
#[derive(Debug)]
pub enum Begun<'r> {
    /// Handled now: its calls all answered at once (sync methods, errors, answers to the
    /// peer), with nothing left to wait for.
    Done(Handled<'r>),
    /// Not run: it waits on async methods, async layers or a subscription that decides (or,
    /// calling an ordered method, for the calls before it to end). Run it with
    /// [`Router::handle_push`], in this order.
    Later(Order),
}

impl<S: Send + Sync + 'static> Router<S> {
    /// Begins one message of a connection that can push: a message whose calls can all
    /// answer at once is handled now, without a future, even in a router with async methods;
    /// any other is left for [`Router::handle_push`], with the [`Order`] it must run in.
    /// `alone` says whether nothing else of the connection is running (an ordered sync
    /// method then runs now). A message handled here is parsed twice: to tell, then to run.
    pub fn begin_push<'r>(&'r self, body: &[u8], cx: &'r Context<'r>, alone: bool) -> Begun<'r> {
        let parsed = parse_body(body, self.batch_limit());
        // Whether a call waits (an async method), and the strictest order among the calls.
        let mut waits = false;
        let mut order = Order::Concurrent;
        let mut classify = |entry: &Entry<'_>| {
            let Entry::Call(request) = entry else { return };
            let Some(method) = self.lookup(&request.method) else {
                // An unknown method answers at once, but for the async layers; the cancel
                // notification never goes through them.
                let layered = !self.async_layers.is_empty() && !is_cancel(cx, request);
                waits |= layered;
                if layered && request.id.is_none() {
                    order = order.max(Order::Before);
                }
                return;
            };
            // Under an async layer every call waits, and so does a subscription that decides.
            let decides = method.info.subscription.as_ref().is_some_and(|s| s.pending);
            let is_async = matches!(method.callback, Callback::Async(_))
                || decides
                || !self.async_layers.is_empty();
            waits |= is_async;
            let this = if method.info.ordered {
                Order::Alone
            } else if is_async && request.id.is_none() {
                Order::Before
            } else {
                Order::Concurrent
            };
            order = order.max(this);
        };
        match &parsed {
            Ok(Body::Single(entry)) => classify(entry),
            Ok(Body::Batch(entries)) => entries.iter().for_each(&mut classify),
            _ => {}
        }
        if waits || (order == Order::Alone && !alone) {
            return Begun::Later(order);
        }
        let pushing = Pushing::new(self, cx);
        // Parsed again to run it: the dispatcher parses inside its own future, so that the
        // HTTP path's future stays as small and as fast as it was.
        drop(parsed);
        let response = self.now(body, cx, Mode::Push(&pushing));
        Begun::Done(pushing.handled(response))
    }

    /// Handles one request body for a transport that can push (a WebSocket): as
    /// [`Router::handle_with`], and subscribe calls start subscriptions, returned for the
    /// transport to drive once it has written the response. The context must carry the
    /// connection's [`Outbox`](crate::Outbox) ([`Context::with_outbox`]), where the
    /// subscriptions' notifications wait to be written; without one, subscribe calls are
    /// answered as over plain HTTP.
    ///
    /// ```
    /// use rpc_core::{rpc_subscription, Context, Note, Outbox, Router, Sink, Taken};
    /// use std::task::{Context as TaskContext, Poll, Waker};
    ///
    /// /// Sends "hello", then ends.
    /// #[rpc_subscription(notification = "greeting")]
    /// async fn greet(sink: Sink<&'static str>) {
    ///     let _ = sink.send("hello").await;
    /// }
    ///
    /// let mut router = Router::new();
    /// router.register(greet::method())?;
    /// let outbox = Outbox::default();
    /// let cx = Context::new().with_outbox(&outbox);
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let call = br#"{"jsonrpc":"2.0","method":"subscribe_greet","id":1}"#;
    /// let handled = router.handle_push(call, &cx).await;
    /// let answer = String::from_utf8(handled.response.unwrap()).unwrap();
    /// assert!(answer.starts_with(r#"{"jsonrpc":"2.0","result":"0x"#));
    ///
    /// // The transport has written the answer: now it drives the subscription...
    /// for subscription in handled.subscriptions {
    ///     subscription.await;
    /// }
    /// // ...and writes out its notifications.
    /// let mut notes: Vec<Note> = Vec::new();
    /// let taken = outbox.poll_take(&mut TaskContext::from_waker(Waker::noop()), &mut notes);
    /// assert_eq!(taken, Poll::Ready(Taken::Notes));
    /// let text: Vec<u8> = notes[0].parts().concat();
    /// let text = String::from_utf8(text).unwrap();
    /// assert!(text.starts_with(r#"{"jsonrpc":"2.0","method":"greeting","params":{"subscription":"0x"#));
    /// assert!(text.ends_with(r#"","result":"hello"}}"#));
    /// # });
    /// # Ok::<(), rpc_core::RegisterError>(())
    /// ```
    pub async fn handle_push<'r>(&'r self, body: &[u8], cx: &'r Context<'r>) -> Handled<'r> {
        let pushing = Pushing::new(self, cx);
        let mut out = Vec::with_capacity(128);
        let answered = self
            .handle_into(body, &mut out, cx, Mode::Push(&pushing))
            .await;
        pushing.handled(answered.then_some(out))
    }

    /// [`Router::handle_push`] at once, without a future, for a router whose methods are all
    /// sync ([`Router::is_sync`]; subscription methods count as sync: their calls answer at
    /// once). With any async method registered, it runs nothing and returns [`NotSync`].
    pub fn handle_sync_push<'r>(
        &'r self,
        body: &[u8],
        cx: &'r Context<'r>,
    ) -> Result<Handled<'r>, NotSync> {
        if !self.is_sync() {
            return Err(NotSync);
        }
        let pushing = Pushing::new(self, cx);
        let response = self.now(body, cx, Mode::Push(&pushing));
        Ok(pushing.handled(response))
    }
}

/// A message of a connection that can push, being handled: the subscriptions its calls open.
pub(crate) struct Pushing<'r, S> {
    pub(crate) router: &'r Router<S>,
    pub(crate) cx: &'r Context<'r>,
    /// Subscriptions whose ids are answered, for the transport to drive once the response is
    /// written.
    started: Mutex<Vec<Subscription<'r>>>,
    /// Subscriptions opened under async layers, until their call's answer is known: they
    /// start if the caller gets their id, and end unseen if a layer answers otherwise.
    opened: Mutex<Vec<Subscription<'r>>>,
}

impl<'r, S: Send + Sync + 'static> Pushing<'r, S> {
    fn new(router: &'r Router<S>, cx: &'r Context<'r>) -> Self {
        Self {
            router,
            cx,
            started: Mutex::new(Vec::new()),
            opened: Mutex::new(Vec::new()),
        }
    }

    /// Starts a subscription whose id its call answers.
    pub(crate) fn start(&self, subscription: Subscription<'r>) {
        lock(&self.started).push(subscription);
    }

    /// Keeps a subscription opened under async layers until its call's answer is known.
    pub(crate) fn open(&self, subscription: Subscription<'r>) {
        lock(&self.opened).push(subscription);
    }

    /// The subscription `id` opened under async layers is answered: it starts.
    pub(crate) fn confirm(&self, id: SubscriptionId) {
        let mut opened = lock(&self.opened);
        if let Some(at) = opened.iter().position(|opened| opened.id() == id) {
            let subscription = opened.swap_remove(at);
            drop(opened);
            self.start(subscription);
        }
    }

    /// The message is handled: its response, and the subscriptions it started. Those opened
    /// but never answered end here.
    fn handled(self, response: Option<Vec<u8>>) -> Handled<'r> {
        Handled {
            response,
            subscriptions: self
                .started
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The error for a subscription that could not start.
pub(crate) fn refused(refusal: Refused) -> ErrorObject {
    match refusal {
        Refused::TooMany(limit) => ErrorObject::server_error(
            ErrorCode::TOO_MANY_SUBSCRIPTIONS.code(),
            "Too many subscriptions",
        )
        .with_data(serde_json::json!({ "limit": limit })),
        Refused::Closed => ErrorObject::shutting_down(),
    }
}

/// Ends a subscription of the caller's connection, named by its id (by position), if `by` is
/// its unsubscribe method: `true`, or for an id not alive there (over a transport that cannot
/// push: none is) or another method's to end, `false` or, with `errors`, go-ethereum's error.
pub(crate) fn unsubscribe(
    cx: &Context<'_>,
    by: &str,
    params: Params<'_>,
    out: &mut Vec<u8>,
    errors: bool,
) -> Result<(), ErrorObject> {
    let (id,): (Cow<'_, str>,) = params.parse()?;
    let ended = SubscriptionId::parse(&id)
        .zip(cx.outbox())
        .is_some_and(|(id, outbox)| outbox.unsubscribe(id, by));
    if !ended && errors {
        return Err(crate::geth::subscription_not_found());
    }
    write_json(out, &ended)
}

impl<S: Send + Sync + 'static> Router<S> {
    /// Starts a subscribe call: with the context's outbox and a transport that drives
    /// subscriptions, the subscription opens and its id is answered; otherwise it is refused
    /// as over plain HTTP.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start_subscription<'a, 'r: 'a>(
        &'r self,
        subscribe: &'r SubscribeFn<S>,
        method: &'r Method<S>,
        request: &Request<'_>,
        layered: Option<Layered<'_>>,
        trace: Option<CallTrace>,
        out: &mut Vec<u8>,
        cx: &'r Context<'r>,
        mode: Mode<'_, 'r, S>,
    ) -> Started<'a> {
        let name = &*method.info.name;
        let pushing = match (mode, cx.outbox()) {
            (Mode::Push(pushing), Some(outbox)) => Some((pushing, outbox)),
            _ => None,
        };
        let outcome = match (&request.id, pushing) {
            (_, None) => Err(self.needs_push(name)),
            (None, Some(_)) => {
                // Its id would be answered to no one: nothing starts.
                tracing::debug!(method = name, "a subscribe notification starts nothing");
                Ok(None)
            }
            (Some(_), Some((pushing, outbox))) => {
                let entered = trace.as_ref().map(|trace| trace.span.enter());
                let opened = self.open_subscription(method, subscribe, request.params, cx, outbox);
                drop(entered);
                opened.map(|subscription| Some((pushing, subscription)))
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
                answer_error(out, request.id.as_ref(), &self.shape(name, error))
            }
            (Ok(started), None) => {
                if let (Some(id), Some((pushing, subscription))) = (&request.id, started) {
                    write_result_start(out);
                    out.extend_from_slice(id_text.as_bytes());
                    write_end(out, Some(id));
                    pushing.start(subscription);
                }
                Started::Done {
                    answered: request.id.is_some(),
                }
            }
        }
    }
}

impl<S: Send + Sync + 'static> Router<S> {
    /// Opens a subscription for a subscribe call: its notifications will wait in `outbox`,
    /// once it is driven.
    pub(crate) fn open_subscription<'r>(
        &'r self,
        method: &'r Method<S>,
        subscribe: &'r SubscribeFn<S>,
        params: Params<'_>,
        cx: &'r Context<'r>,
        outbox: &Outbox,
    ) -> Result<Subscription<'r>, ErrorObject> {
        let (future, sink) = self.open_future(method, subscribe, params, cx, outbox, None)?;
        Ok(Subscription::new(outbox.clone(), sink.id(), future))
    }

    /// Opens a subscription's place in `outbox` and calls its method: the method's future,
    /// and the sink it was given (carrying `decision`, for a subscription that decides).
    pub(crate) fn open_future<'r>(
        &'r self,
        method: &'r Method<S>,
        subscribe: &'r SubscribeFn<S>,
        params: Params<'_>,
        cx: &'r Context<'r>,
        outbox: &Outbox,
        decision: Option<Arc<Decision>>,
    ) -> Result<(BoxFuture<'r, ()>, RawSink), ErrorObject> {
        let name = &*method.info.name;
        let (notification, unsubscribe, notice) = match &method.info.subscription {
            Some(info) => (
                &*info.notification,
                info.unsubscribe.clone(),
                info.end_notice,
            ),
            None => (name, Cow::Borrowed(""), false),
        };
        let (id, head) = outbox
            .open(notification, unsubscribe, notice)
            .map_err(refused)?;
        let sink = RawSink::new(outbox.clone(), id, head).with_decision(decision);
        let future = catch_unwind(AssertUnwindSafe(|| {
            subscribe(self.state(), cx, params, sink.clone())
        }))
        .unwrap_or_else(|panic| Err(panicked(name, &*panic)));
        match future {
            Ok(future) => Ok((future, sink)),
            Err(err) => {
                outbox.end(id);
                Err(err)
            }
        }
    }
}
