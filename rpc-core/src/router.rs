//! The router: methods by name, the shared state they receive, and the safety limits.
//!
//! The router, the methods it holds, their calls and contexts, subscriptions, layers and peers
//! name one another's types: a method is called with a context that gives it its peer, its
//! cancellation and its subscription sinks, a subscription is a call that lives on, and layers
//! wrap both. That circle is the dispatcher's core and is kept on purpose (see
//! ARCHITECTURE.md); what the modules around it share lives in leaves below it (`info`,
//! `boxed`, `schema`, `json_text`, `request`), and discovery (`openrpc`) reads the router from
//! above.

use std::borrow::Cow;
use std::fmt;

use rustc_hash::FxHashMap;

use crate::answers::ParamsShaper;
use crate::layer::{AsyncCallLayer, CallLayer};
use crate::method::{Callback, Method};
use crate::register::{check_allowed, unsubscriber_for, Refusal, RegisterError};
use crate::{ErrorObject, MethodInfo};

/// The longest batch a router answers by default: 1,000 calls.
pub const DEFAULT_MAX_BATCH_LEN: usize = 1_000;

/// Methods by name, with the application state they share.
///
/// `S` is any `Send + Sync + 'static` value (a connection pool, a counter, `()` for none); each
/// method receives `&S`. The router is the dispatcher too: see [`Router::handle`].
///
/// # Limits
/// | limit | default | over it |
/// |---|---|---|
/// | calls in one batch ([`Router::max_batch_len`]) | [`DEFAULT_MAX_BATCH_LEN`] (1,000) | one -32600 error object, no call run |
/// | nesting depth of params a method decodes | 128 (serde_json's recursion limit) | -32602 "Invalid params" |
///
/// Parts of a body the dispatcher only skips or keeps raw (unknown members, params before
/// decoding) are scanned without recursion, so no depth of nesting can exhaust the stack. The
/// size of a body is the transport's to bound (the HTTP adapter does).
///
/// ```
/// use rpc_core::{Method, Params, Router};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let mut router = Router::with_state(AtomicU64::new(0));
/// router
///     .register(Method::new_sync("hit", |hits: &AtomicU64, _: Params<'_>| {
///         Ok::<_, rpc_core::ErrorObject>(hits.fetch_add(1, Ordering::Relaxed) + 1)
///     }))?
///     .register(Method::new_sync("hits", |hits: &AtomicU64, _: Params<'_>| {
///         Ok::<_, rpc_core::ErrorObject>(hits.load(Ordering::Relaxed))
///     }))?;
/// assert!(router.register(Method::new_sync("hit", |_: &AtomicU64, _: Params<'_>| {
///     Ok::<_, rpc_core::ErrorObject>(())
/// })).is_err());
/// # Ok::<(), rpc_core::RegisterError>(())
/// ```
pub struct Router<S = ()> {
    /// In registration order.
    methods: Vec<Method<S>>,
    /// Name to index into `methods`. Lookups only: method names from requests never go in, so
    /// a fast non-keyed hash is safe here.
    by_name: FxHashMap<Box<str>, usize>,
    state: S,
    max_batch_len: usize,
    /// How many of the methods are async.
    async_methods: usize,
    /// How many of the methods start subscriptions.
    subscription_methods: usize,
    /// How many methods call their connection's peer back.
    peer_methods: usize,
    /// Per-call middleware, outermost first.
    pub(crate) layers: Vec<Box<dyn CallLayer>>,
    /// Async per-call middleware, outermost first.
    pub(crate) async_layers: Vec<Box<dyn AsyncCallLayer>>,
    /// What a subscribe call gets over a transport that cannot push, if not -32009.
    pub(crate) cannot_push: Option<ErrorObject>,
    /// How decode errors are worded, if not as -32602 with a sentence in `data`.
    pub(crate) params_shaper: Option<Box<ParamsShaper>>,
    /// The kinds of each subscribe name that has several.
    pub(crate) kinds: FxHashMap<Box<str>, std::sync::Arc<crate::kinds::Kinds<S>>>,
    /// `rpc.discover`'s document, once served (the `openrpc` feature).
    #[cfg(feature = "openrpc")]
    pub(crate) discovery: Option<Box<crate::schema::Discovery>>,
}

impl Router<()> {
    /// A router without state.
    pub fn new() -> Self {
        Self::with_state(())
    }
}

impl Default for Router<()> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Send + Sync + 'static> Router<S> {
    /// A router whose methods share `state`.
    pub fn with_state(state: S) -> Self {
        Self {
            methods: Vec::new(),
            by_name: FxHashMap::default(),
            state,
            max_batch_len: DEFAULT_MAX_BATCH_LEN,
            async_methods: 0,
            subscription_methods: 0,
            peer_methods: 0,
            layers: Vec::new(),
            async_layers: Vec::new(),
            cannot_push: None,
            params_shaper: None,
            kinds: FxHashMap::default(),
            #[cfg(feature = "openrpc")]
            discovery: None,
        }
    }

    /// Adds a layer around every call (see [`CallLayer`] for what it sees and may do). The
    /// first layer added is the outermost: its `before` runs first, its `after` last.
    pub fn layer(&mut self, layer: impl CallLayer) -> &mut Self {
        self.layers.push(Box::new(layer));
        self
    }

    /// Adds an async layer around every call (see [`AsyncCallLayer`]): the first added is the
    /// outermost. Every call then waits in a future, a sync method's too: the router is no
    /// longer [sync](Router::is_sync).
    pub fn async_layer(&mut self, layer: impl AsyncCallLayer) -> &mut Self {
        self.async_layers.push(Box::new(layer));
        self
    }

    /// Registers a method under its name. A name registered already, or one the
    /// specification reserves (beginning with `rpc.`), is an error, and the router is left as
    /// it was.
    ///
    /// A subscription method brings its unsubscribe method along, unless a method of that name
    /// that ends subscriptions is registered already (subscriptions may share one).
    pub fn register(&mut self, method: Method<S>) -> Result<&mut Self, RegisterError> {
        let kind = method
            .info
            .subscription
            .as_ref()
            .and_then(|s| s.kind.clone());
        if let Some(kind) = kind {
            return self.register_kind(method, kind);
        }
        for name in method.info.names() {
            self.check_free(name)?;
        }
        let unsubscribe = unsubscriber_for(&method, |name| match self.lookup(name) {
            Some(existing) => Some(matches!(existing.callback, Callback::Unsubscribe { .. })),
            None => check_allowed(name).map(|()| None).ok().flatten(),
        })?;
        self.insert(method);
        if let Some(unsubscribe) = unsubscribe {
            self.insert(unsubscribe);
        }
        Ok(self)
    }

    /// Refuses a name that is taken, or reserved by the specification.
    pub(crate) fn check_free(&self, name: &str) -> Result<(), RegisterError> {
        check_allowed(name)?;
        if self.by_name.contains_key(name) {
            return Err(RegisterError::new(name, Refusal::Duplicate));
        }
        Ok(())
    }

    /// Adds a method whose names are known to be free.
    pub(crate) fn insert(&mut self, method: Method<S>) {
        for name in method.info.names() {
            self.by_name.insert(name.into(), self.methods.len());
        }
        if method.info.uses_peer {
            self.peer_methods += 1;
        }
        match method.callback {
            Callback::Async(_) => self.async_methods += 1,
            Callback::Subscribe(_) => {
                self.subscription_methods += 1;
                // Its call waits for it to decide, as an async method's does.
                if method.info.subscription.as_ref().is_some_and(|s| s.pending) {
                    self.async_methods += 1;
                }
            }
            _ => {}
        }
        self.methods.push(method);
        #[cfg(feature = "openrpc")]
        self.forget_document();
    }

    /// Forgets the document made for `rpc.discover`, if any: the methods changed.
    #[cfg(feature = "openrpc")]
    fn forget_document(&mut self) {
        if let Some(discovery) = &mut self.discovery {
            discovery.forget();
        }
    }

    /// Gives the method registered as `existing` a second name, `alias`: calls by either
    /// name run it. The alias is listed in its [`MethodInfo::aliases`].
    ///
    /// ```
    /// use rpc_core::{rpc_method, Router};
    ///
    /// /// Adds two integers.
    /// #[rpc_method]
    /// fn add(a: i64, b: i64) -> i64 {
    ///     a + b
    /// }
    ///
    /// let mut router = Router::new();
    /// router.register(add::method())?.alias("sum", "add")?;
    /// assert_eq!(router.method_info("sum").unwrap().name, "add");
    /// assert!(router.alias("plus", "nothing").unwrap_err().is_unknown());
    /// # Ok::<(), rpc_core::RegisterError>(())
    /// ```
    pub fn alias(
        &mut self,
        alias: impl Into<Cow<'static, str>>,
        existing: &str,
    ) -> Result<&mut Self, RegisterError> {
        let alias = alias.into();
        self.check_free(&alias)?;
        let Some(&index) = self.by_name.get(existing) else {
            return Err(RegisterError::new(existing, Refusal::Unknown));
        };
        self.by_name.insert(alias.as_ref().into(), index);
        if let Some(method) = self.methods.get_mut(index) {
            method.info.aliases.push(alias);
        }
        #[cfg(feature = "openrpc")]
        self.forget_document();
        Ok(self)
    }
}

impl<S> Router<S> {
    /// Sets the most calls one batch may hold; a longer batch is answered with a single
    /// -32600 error object and none of its calls run. At least 1.
    #[must_use]
    pub fn max_batch_len(mut self, len: usize) -> Self {
        self.max_batch_len = len.max(1);
        self
    }

    /// The most calls one batch may hold.
    pub fn batch_limit(&self) -> usize {
        self.max_batch_len
    }

    /// Whether every registered method is sync (subscriptions count as sync, but for one that
    /// decides before it starts, with a [`PendingSink`](crate::PendingSink)), and no
    /// [async layer](Router::async_layer) wraps them. Then handling a body never waits:
    /// [`Router::handle_sync`] answers it without a future.
    pub fn is_sync(&self) -> bool {
        self.async_methods == 0 && self.async_layers.is_empty()
    }

    /// Whether any method starts subscriptions: a transport that can push needs an
    /// [`Outbox`](crate::Outbox) per connection only then.
    pub fn has_subscriptions(&self) -> bool {
        self.subscription_methods > 0
    }

    /// Whether any method calls its connection's [`Peer`](crate::Peer) back
    /// ([`Method::uses_peer`](crate::Method::uses_peer)): a transport that can gives its
    /// connections a peer only then.
    pub fn uses_peer(&self) -> bool {
        self.peer_methods > 0
    }

    /// The shared state.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// What is known about each registered method, in registration order.
    pub fn methods(&self) -> impl ExactSizeIterator<Item = &MethodInfo> + '_ {
        self.methods.iter().map(Method::info)
    }

    /// What is known about the method registered as `name`.
    pub fn method_info(&self, name: &str) -> Option<&MethodInfo> {
        self.lookup(name).map(Method::info)
    }

    /// The methods, in registration order; the state and layers are dropped, and so is
    /// `rpc.discover`, which describes this router alone.
    pub(crate) fn into_methods(self) -> Vec<Method<S>> {
        #[cfg(feature = "openrpc")]
        let methods = {
            let mut methods = self.methods;
            methods.retain(|method| !matches!(method.callback, Callback::Discover));
            methods
        };
        #[cfg(not(feature = "openrpc"))]
        let methods = self.methods;
        methods
    }

    pub(crate) fn lookup(&self, name: &str) -> Option<&Method<S>> {
        self.by_name
            .get(name)
            .and_then(|&index| self.methods.get(index))
    }
}

impl<S> fmt::Debug for Router<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field(
                "methods",
                &self
                    .methods
                    .iter()
                    .map(|m| &m.info.name)
                    .collect::<Vec<_>>(),
            )
            .field("max_batch_len", &self.max_batch_len)
            .field("layers", &self.layers.len())
            .field("async_layers", &self.async_layers.len())
            .finish_non_exhaustive()
    }
}

/// [`Router::handle_sync`] was called on a router with async methods: nothing was run, and
/// [`Router::handle`] is the way to handle the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotSync;

impl fmt::Display for NotSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the router has async methods: handle the body with `Router::handle`")
    }
}

impl std::error::Error for NotSync {}
