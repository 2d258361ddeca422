//! What a client needs to call a method, with no transport: the method's name, its params as
//! they go on the wire, and the type its result decodes into (the `client` feature).
//!
//! `#[rpc_method]` generates one beside each function: `add::call(2, 3)` is a
//! [`TypedCall`] of `add` by name, whose result decodes as the function's return type (the
//! `Ok` type of a `Result`). A client (`rpc-hyper`'s, or any other) sends it; see
//! [`write_request`] for the bytes.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;

/// A typed call: a method's name, its params, and the type of its result, `R`.
///
/// ```
/// use rpc_core::TypedCall;
///
/// let call: TypedCall<(i64, i64), i64> = TypedCall::new("add", (2, 3));
/// assert_eq!(call.method(), "add");
/// let mut out = Vec::new();
/// rpc_core::write_request(&mut out, call.method(), call.params(), Some(7)).unwrap();
/// assert_eq!(out, br#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":7}"#);
/// ```
pub struct TypedCall<P, R> {
    method: Cow<'static, str>,
    params: P,
    result: PhantomData<fn() -> R>,
}

impl<P: Serialize, R> TypedCall<P, R> {
    /// A call of `method` with `params` (any `Serialize`: a tuple or array goes by position,
    /// a struct or map by name, `()` as no params at all).
    pub fn new(method: impl Into<Cow<'static, str>>, params: P) -> Self {
        Self {
            method: method.into(),
            params,
            result: PhantomData,
        }
    }

    /// The method's name.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The params.
    pub fn params(&self) -> &P {
        &self.params
    }

    /// The method's name and the params, taken apart.
    pub fn into_parts(self) -> (Cow<'static, str>, P) {
        (self.method, self.params)
    }
}

impl<P: fmt::Debug, R> fmt::Debug for TypedCall<P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedCall")
            .field("method", &self.method)
            .field("params", &self.params)
            .field("result", &std::any::type_name::<R>())
            .finish()
    }
}

/// A typed subscription: the subscribe and unsubscribe methods' names, the notifications'
/// name, its params, and the type of its items, `T`. `#[rpc_subscription]` generates one:
/// `countdown::subscribe(5, 100)`.
pub struct TypedSubscription<P, T> {
    subscribe: Cow<'static, str>,
    unsubscribe: Cow<'static, str>,
    notification: Cow<'static, str>,
    params: P,
    item: PhantomData<fn() -> T>,
}

impl<P: Serialize, T> TypedSubscription<P, T> {
    /// A subscription started with `subscribe` and `params`, ended with `unsubscribe`, whose
    /// items come as notifications named `notification`.
    pub fn new(
        subscribe: impl Into<Cow<'static, str>>,
        unsubscribe: impl Into<Cow<'static, str>>,
        notification: impl Into<Cow<'static, str>>,
        params: P,
    ) -> Self {
        Self {
            subscribe: subscribe.into(),
            unsubscribe: unsubscribe.into(),
            notification: notification.into(),
            params,
            item: PhantomData,
        }
    }

    /// The subscribe method's name.
    pub fn subscribe_method(&self) -> &str {
        &self.subscribe
    }

    /// The unsubscribe method's name.
    pub fn unsubscribe_method(&self) -> &str {
        &self.unsubscribe
    }

    /// The notifications' name.
    pub fn notification(&self) -> &str {
        &self.notification
    }

    /// The params of the subscribe call.
    pub fn params(&self) -> &P {
        &self.params
    }
}

impl<P: fmt::Debug, T> fmt::Debug for TypedSubscription<P, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedSubscription")
            .field("subscribe", &self.subscribe)
            .field("notification", &self.notification)
            .field("params", &self.params)
            .field("item", &std::any::type_name::<T>())
            .finish()
    }
}

/// What `#[rpc_method]`'s generated stubs need.
#[doc(hidden)]
pub mod __stub {
    pub use serde::ser::{Serialize, SerializeMap, Serializer};
}
