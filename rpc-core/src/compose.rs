//! Routers built from parts: modules of methods merged in, or nested under a prefix.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use crate::method::Callback;
use crate::register::{check_allowed, unsubscriber_for, Refusal};
use crate::MethodInfo;
use crate::{Method, RegisterError, Router};

/// Methods without a router: a module of a service, built on its own and then merged into a
/// router ([`Router::merge`]) or nested under a prefix ([`Router::nest`]).
///
/// Its methods take the state `S` of the router they end up in.
///
/// ```
/// use rpc_core::{rpc_method, Methods, Router};
///
/// mod kv {
///     use rpc_core::{rpc_method, Methods};
///
///     /// Reads a key.
///     #[rpc_method]
///     fn get(key: String) -> Option<String> {
///         (key == "greeting").then(|| "hello".to_owned())
///     }
///
///     /// The key-value module's methods.
///     pub fn methods() -> Methods {
///         let mut methods = Methods::new();
///         methods.register(get::method()).unwrap().alias("read", "get").unwrap();
///         methods
///     }
/// }
///
/// /// Answers.
/// #[rpc_method]
/// fn ping() -> &'static str {
///     "pong"
/// }
///
/// let mut router = Router::new();
/// router.register(ping::method())?.nest("kv.", kv::methods())?;
/// let names: Vec<&str> = router.methods().flat_map(|info| info.names()).collect();
/// assert_eq!(names, ["ping", "kv.get", "kv.read"]);
/// # Ok::<(), rpc_core::RegisterError>(())
/// ```
pub struct Methods<S = ()> {
    methods: Vec<Method<S>>,
}

impl<S> Methods<S> {
    /// No methods.
    pub fn new() -> Self {
        Self {
            methods: Vec::new(),
        }
    }

    /// Adds a method. A name the module has already, or one the specification reserves
    /// (beginning with `rpc.`), is an error, and the module is left as it was.
    pub fn register(&mut self, method: Method<S>) -> Result<&mut Self, RegisterError> {
        for name in method.info.names() {
            self.check_free(name)?;
        }
        let unsubscribe = unsubscriber_for(&method, |name| {
            self.methods
                .iter()
                .find(|m| m.info.names().any(|taken| taken == name))
                .map(|m| matches!(m.callback, Callback::Unsubscribe { .. }))
        })?;
        self.methods.push(method);
        self.methods.extend(unsubscribe);
        Ok(self)
    }

    /// Gives the method named `existing` a second name, as [`Router::alias`] does.
    pub fn alias(
        &mut self,
        alias: impl Into<Cow<'static, str>>,
        existing: &str,
    ) -> Result<&mut Self, RegisterError> {
        let alias = alias.into();
        self.check_free(&alias)?;
        let Some(method) = self.methods.iter_mut().find(|m| m.info.name == existing) else {
            return Err(RegisterError::new(existing, Refusal::Unknown));
        };
        method.info.aliases.push(alias);
        Ok(self)
    }

    /// What is known about each method, in registration order.
    pub fn methods(&self) -> impl ExactSizeIterator<Item = &MethodInfo> + '_ {
        self.methods.iter().map(Method::info)
    }

    fn check_free(&self, name: &str) -> Result<(), RegisterError> {
        check_allowed(name)?;
        if self
            .methods()
            .any(|info| info.names().any(|taken| taken == name))
        {
            return Err(RegisterError::new(name, Refusal::Duplicate));
        }
        Ok(())
    }
}

impl<S> Default for Methods<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> fmt::Debug for Methods<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.methods()).finish()
    }
}

/// A router's methods, without its state and layers: to merge one router into another.
impl<S> From<Router<S>> for Methods<S> {
    fn from(router: Router<S>) -> Self {
        Self {
            methods: router.into_methods(),
        }
    }
}

impl<S: Send + Sync + 'static> Router<S> {
    /// Adds every method of `methods` (a [`Methods`] module, or another router's methods:
    /// its state and layers are not taken). A name clash, with a method of this router or a
    /// reserved name, is an error naming the method, and the router is left as it was.
    ///
    /// ```
    /// use rpc_core::{Method, Methods, Params, Router};
    ///
    /// let ping = || Method::new_sync("ping", |_: &(), _: Params<'_>| Ok::<_, rpc_core::ErrorObject>("pong"));
    /// let mut router = Router::new();
    /// router.register(ping())?;
    /// let mut other = Router::new();
    /// other.register(ping())?;
    /// let clash = router.merge(other).unwrap_err();
    /// assert!(clash.is_duplicate());
    /// assert_eq!(clash.name(), "ping");
    /// # Ok::<(), rpc_core::RegisterError>(())
    /// ```
    pub fn merge(&mut self, methods: impl Into<Methods<S>>) -> Result<&mut Self, RegisterError> {
        self.nest("", methods)
    }

    /// Adds every method of `methods` under a prefix: with `"kv."`, the module's `get` is
    /// called as `kv.get` (its aliases too). The prefix is written as is, so the separator is
    /// yours: `"kv."`, `"kv_"`, `"kv/"`. Clashes are errors, as for [`Router::merge`].
    pub fn nest(
        &mut self,
        prefix: &str,
        methods: impl Into<Methods<S>>,
    ) -> Result<&mut Self, RegisterError> {
        let mut methods = methods.into().methods;
        if !prefix.is_empty() {
            for method in &mut methods {
                let info = &mut method.info;
                info.name = Cow::Owned(format!("{prefix}{}", info.name));
                for alias in &mut info.aliases {
                    *alias = Cow::Owned(format!("{prefix}{alias}"));
                }
                if let Some(subscription) = &mut info.subscription {
                    subscription.unsubscribe =
                        Cow::Owned(format!("{prefix}{}", subscription.unsubscribe));
                }
            }
        }
        // An unsubscribe method the router has already is shared, not added twice.
        methods.retain(|method| {
            !matches!(method.callback, Callback::Unsubscribe { .. })
                || !self.lookup(&method.info.name).is_some_and(|existing| {
                    matches!(existing.callback, Callback::Unsubscribe { .. })
                })
        });
        // Every name is checked before any is added: all or nothing.
        let mut seen = HashSet::new();
        for name in methods.iter().flat_map(|method| method.info.names()) {
            self.check_free(name)?;
            if !seen.insert(name) {
                return Err(RegisterError::new(name, Refusal::Duplicate));
            }
        }
        for method in methods {
            self.insert(method);
        }
        Ok(self)
    }
}
