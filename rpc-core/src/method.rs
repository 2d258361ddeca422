//! Methods: the callbacks a router calls, and the builders of what is known about them
//! (the `info` module).

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::response::write_json;
use crate::subscription::{RawSink, SubscriptionInfo};
use crate::{Context, ErrorObject, MethodInfo, ParamInfo, Params};

use crate::boxed::BoxFuture;

/// Calls a sync method and writes its result's JSON to the buffer.
pub(crate) type SyncFn<S> =
    dyn Fn(&S, &Context<'_>, Params<'_>, &mut Vec<u8>) -> Result<(), ErrorObject> + Send + Sync;

/// Starts an async method; the future yields its result's JSON.
pub(crate) type AsyncFn<S> = dyn for<'a> Fn(&'a S, &'a Context<'a>, Params<'a>) -> BoxFuture<'a, Result<Vec<u8>, ErrorObject>>
    + Send
    + Sync;

/// Starts a subscription: decodes the params, and gives the future that sends the items.
pub(crate) type SubscribeFn<S> = dyn for<'a, 'p> Fn(
        &'a S,
        &'a Context<'a>,
        Params<'p>,
        RawSink,
    ) -> Result<BoxFuture<'a, ()>, ErrorObject>
    + Send
    + Sync;

/// Sync and async methods are different callbacks, so that a sync call allocates no future.
pub(crate) enum Callback<S> {
    Sync(Box<SyncFn<S>>),
    Async(Box<AsyncFn<S>>),
    /// Starts a subscription (the transport drives it).
    Subscribe(Box<SubscribeFn<S>>),
    /// Ends one: the method every subscription's `unsubscribe` name is registered as.
    /// `errors`: an id not alive is answered with an error rather than `false`.
    Unsubscribe {
        errors: bool,
    },
    /// Answers with the router's OpenRPC document: `rpc.discover`.
    #[cfg(feature = "openrpc")]
    Discover,
}

/// A named method, ready to be registered on a [`Router`](crate::Router) whose state is `S`.
///
/// Most users get methods from the `#[rpc_method]` attribute; these constructors are the layer
/// underneath, for methods built by hand.
///
/// ```
/// use rpc_core::{ErrorObject, Method, ParamInfo, Params};
///
/// let add = Method::new_sync("add", |_state: &(), params: Params<'_>| {
///     let (a, b): (i64, i64) = params.parse()?;
///     a.checked_add(b).ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
/// })
/// .doc("Adds two integers.")
/// .param(ParamInfo::new("a", "i64"))
/// .param(ParamInfo::new("b", "i64"));
/// assert_eq!(add.info().name, "add");
/// assert_eq!(add.info().params.len(), 2);
/// ```
pub struct Method<S = ()> {
    pub(crate) info: MethodInfo,
    pub(crate) callback: Callback<S>,
}

impl<S: Send + Sync + 'static> Method<S> {
    /// A sync method. It runs on the caller's task, with no future allocated.
    pub fn new_sync<F, R, E>(name: impl Into<Cow<'static, str>>, method: F) -> Self
    where
        F: Fn(&S, Params<'_>) -> Result<R, E> + Send + Sync + 'static,
        R: Serialize,
        E: Into<ErrorObject>,
    {
        Self::new_sync_with(name, move |state: &S, _: &Context<'_>, params| {
            method(state, params)
        })
    }

    /// A sync method that reads the call's [`Context`] too.
    ///
    /// ```
    /// use rpc_core::{Context, ErrorObject, Method, Params, PeerAddr};
    ///
    /// let whence = Method::new_sync_with("whence", |_: &(), cx: &Context<'_>, _: Params<'_>| {
    ///     Ok::<_, ErrorObject>(cx.peer().map(|peer| peer.to_string()))
    /// });
    /// # let _ = whence;
    /// ```
    pub fn new_sync_with<F, R, E>(name: impl Into<Cow<'static, str>>, method: F) -> Self
    where
        F: Fn(&S, &Context<'_>, Params<'_>) -> Result<R, E> + Send + Sync + 'static,
        R: Serialize,
        E: Into<ErrorObject>,
    {
        let callback =
            move |state: &S, cx: &Context<'_>, params: Params<'_>, out: &mut Vec<u8>| match method(
                state, cx, params,
            ) {
                Ok(result) => write_json(out, &result),
                Err(err) => Err(err.into()),
            };
        Self::with_callback(name, false, Callback::Sync(Box::new(callback)))
    }

    /// An async method: a function that returns a boxed future, which may borrow the state and
    /// the params. The calls of a batch run concurrently.
    ///
    /// ```
    /// use rpc_core::{ErrorObject, Method, Params};
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let bump = Method::new_async("bump", |hits: &AtomicU64, _params: Params<'_>| {
    ///     Box::pin(async move { Ok::<_, ErrorObject>(hits.fetch_add(1, Ordering::Relaxed) + 1) })
    /// });
    /// assert!(bump.info().is_async);
    /// ```
    pub fn new_async<F, R, E>(name: impl Into<Cow<'static, str>>, method: F) -> Self
    where
        F: for<'a> Fn(&'a S, Params<'a>) -> BoxFuture<'a, Result<R, E>> + Send + Sync + 'static,
        R: Serialize + 'static,
        E: Into<ErrorObject> + 'static,
    {
        Self::new_async_with(name, move |state, _, params| method(state, params))
    }

    /// An async method that reads the call's [`Context`] too; its future may borrow it.
    ///
    /// ```
    /// use rpc_core::{Context, ErrorObject, HeaderMap, Method, Params};
    ///
    /// let agent = Method::new_async_with("agent", |_: &(), cx: &Context<'_>, _: Params<'_>| {
    ///     Box::pin(async move {
    ///         let agent = cx.get::<HeaderMap>().and_then(|headers| headers.get("user-agent"));
    ///         Ok::<_, ErrorObject>(agent.and_then(|agent| agent.to_str().ok()).map(str::to_owned))
    ///     })
    /// });
    /// # let _ = agent;
    /// ```
    pub fn new_async_with<F, R, E>(name: impl Into<Cow<'static, str>>, method: F) -> Self
    where
        F: for<'a> Fn(&'a S, &'a Context<'a>, Params<'a>) -> BoxFuture<'a, Result<R, E>>
            + Send
            + Sync
            + 'static,
        R: Serialize + 'static,
        E: Into<ErrorObject> + 'static,
    {
        Self::from_async_json(name, move |state, cx, params| {
            let call = method(state, cx, params);
            Box::pin(async move {
                let mut out = Vec::new();
                write_json(&mut out, &call.await.map_err(Into::into)?)?;
                Ok(out)
            })
        })
    }

    /// A sync method that writes its result's JSON into the response buffer itself. This is
    /// what `#[rpc_method]` generates for a plain `fn`; its result may not outlive the call.
    #[doc(hidden)]
    pub fn from_sync_json<F>(name: impl Into<Cow<'static, str>>, method: F) -> Self
    where
        F: Fn(&S, &Context<'_>, Params<'_>, &mut Vec<u8>) -> Result<(), ErrorObject>
            + Send
            + Sync
            + 'static,
    {
        Self::with_callback(name, false, Callback::Sync(Box::new(method)))
    }

    /// An async method whose future yields its result already serialized as JSON. This is what
    /// `#[rpc_method]` generates: the params are decoded and the result serialized inside one
    /// future, so a call boxes one future and nothing else.
    #[doc(hidden)]
    pub fn from_async_json<F>(name: impl Into<Cow<'static, str>>, method: F) -> Self
    where
        F: for<'a> Fn(
                &'a S,
                &'a Context<'a>,
                Params<'a>,
            ) -> BoxFuture<'a, Result<Vec<u8>, ErrorObject>>
            + Send
            + Sync
            + 'static,
    {
        Self::with_callback(name, true, Callback::Async(Box::new(method)))
    }

    /// A subscription method, built by hand: `subscribe` decodes the params (an error answers
    /// the call, and nothing starts) and gives the future that sends the items through the
    /// sink; the subscription lives as long as that future runs. Its notifications are named
    /// `notification`, and the method `unsubscribe` ends it (registered with it). Most users
    /// write subscriptions with `#[rpc_subscription]`.
    ///
    /// ```
    /// use rpc_core::{BoxFuture, Context, ErrorObject, Method, Params, RawSink, Sink};
    ///
    /// fn ticks<'a>(
    ///     _: &'a (),
    ///     _: &'a Context<'a>,
    ///     params: Params<'_>,
    ///     sink: RawSink,
    /// ) -> Result<BoxFuture<'a, ()>, ErrorObject> {
    ///     let (count,): (u32,) = params.parse()?;
    ///     let sink = Sink::<u32>::from_raw(sink);
    ///     Ok(Box::pin(async move {
    ///         for tick in 0..count {
    ///             if sink.send(tick).await.is_err() {
    ///                 break;
    ///             }
    ///         }
    ///     }))
    /// }
    ///
    /// let method = Method::new_subscription("subscribe_ticks", "ticks", "unsubscribe_ticks", ticks);
    /// assert_eq!(method.info().subscription.as_ref().unwrap().notification, "ticks");
    /// ```
    pub fn new_subscription<F>(
        name: impl Into<Cow<'static, str>>,
        notification: impl Into<Cow<'static, str>>,
        unsubscribe: impl Into<Cow<'static, str>>,
        subscribe: F,
    ) -> Self
    where
        F: for<'a, 'p> Fn(
                &'a S,
                &'a Context<'a>,
                Params<'p>,
                RawSink,
            ) -> Result<BoxFuture<'a, ()>, ErrorObject>
            + Send
            + Sync
            + 'static,
    {
        let mut method = Self::with_callback(name, false, Callback::Subscribe(Box::new(subscribe)));
        method.info.subscription = Some(SubscriptionInfo {
            notification: notification.into(),
            unsubscribe: unsubscribe.into(),
            item: None,
            #[cfg(feature = "openrpc")]
            item_schema: None,
            unknown_id_errors: false,
            pending: false,
            end_notice: false,
            kind: None,
        });
        method
    }
}

impl<S> Method<S> {
    /// The method that ends subscriptions, under `name`; with `errors`, an id not alive there
    /// is answered with an error rather than `false`.
    pub(crate) fn unsubscriber(name: Cow<'static, str>, errors: bool) -> Self {
        let doc = if errors {
            "Ends a subscription of the caller's connection: `true`, or the error -32000 \"subscription not found\" for an id that is not alive there."
        } else {
            "Ends a subscription of the caller's connection: `true`, or `false` for an id that is not alive there."
        };
        let method = Self::with_callback(name, false, Callback::Unsubscribe { errors })
            .doc(doc)
            .param(ParamInfo::new("subscription", "SubscriptionId"))
            .result_type("bool");
        #[cfg(feature = "openrpc")]
        let method = {
            use crate::schema::TypeSchema;
            let mut method = method.result_schema(TypeSchema::of::<bool>());
            if let Some(param) = method.info.params.first_mut() {
                param.schema = Some(TypeSchema::of::<String>());
            }
            method
        };
        method
    }

    pub(crate) fn with_callback(
        name: impl Into<Cow<'static, str>>,
        is_async: bool,
        callback: Callback<S>,
    ) -> Self {
        Self {
            info: MethodInfo {
                name: name.into(),
                doc: Cow::Borrowed(""),
                params: Vec::new(),
                result: None,
                is_async,
                uses_peer: false,
                ordered: false,
                aliases: Vec::new(),
                subscription: None,
                errors: Vec::new(),
                #[cfg(feature = "openrpc")]
                result_schema: None,
            },
            callback,
        }
    }

    /// Marks the method as one that calls its connection's [`Peer`](crate::Peer) back
    /// (from its context: [`Context::peer_handle`](crate::Context::peer_handle)), so that the
    /// transport gives its connections one. `#[rpc_method]` marks a method with a `Peer`
    /// parameter itself.
    #[must_use]
    pub fn uses_peer(mut self) -> Self {
        self.info.uses_peer = true;
        self
    }

    /// Marks the method as one that runs alone on its connection (a stream or a WebSocket):
    /// after every earlier message's calls have ended, and before any later message starts,
    /// as a request that changes state must. Other requests run concurrently, and
    /// notifications in the order they came. (`#[rpc_method(ordered)]`.)
    #[must_use]
    pub fn ordered(mut self) -> Self {
        self.info.ordered = true;
        self
    }

    /// Sets the documentation text.
    #[must_use]
    pub fn doc(mut self, doc: impl Into<Cow<'static, str>>) -> Self {
        self.info.doc = doc.into();
        self
    }

    /// Appends a parameter's description.
    #[must_use]
    pub fn param(mut self, param: ParamInfo) -> Self {
        self.info.params.push(param);
        self
    }

    /// Sets the name of the result's type.
    #[must_use]
    pub fn result_type(mut self, ty: impl Into<Cow<'static, str>>) -> Self {
        self.info.result = Some(ty.into());
        self
    }

    /// Declares an application error the method may answer with (listed in the OpenRPC
    /// document's `errors`).
    #[must_use]
    pub fn error(mut self, code: i32, message: impl Into<Cow<'static, str>>) -> Self {
        self.info.errors.push((code, message.into()));
        self
    }

    /// Sets the name of a subscription's items' type (nothing for other methods).
    #[must_use]
    pub fn item_type(mut self, ty: impl Into<Cow<'static, str>>) -> Self {
        if let Some(subscription) = &mut self.info.subscription {
            subscription.item = Some(ty.into());
        }
        self
    }

    /// Renames the method.
    #[must_use]
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.info.name = name.into();
        self
    }

    /// What is known about the method.
    pub fn info(&self) -> &MethodInfo {
        &self.info
    }
}

impl<S> fmt::Debug for Method<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Method")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}
