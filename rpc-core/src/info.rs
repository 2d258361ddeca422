//! What is known about a method and its parameters: for introspection, documentation and
//! discovery.

use std::borrow::Cow;

/// What is known about a method, for introspection (documentation, discovery).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MethodInfo {
    /// The name callers use.
    pub name: Cow<'static, str>,
    /// Documentation text (the function's doc comment, for generated methods).
    pub doc: Cow<'static, str>,
    /// The parameters, in positional order.
    pub params: Vec<ParamInfo>,
    /// The name of the result's type, when known.
    pub result: Option<Cow<'static, str>>,
    /// Whether the method is async.
    pub is_async: bool,
    /// Whether the method calls its connection's [`Peer`](crate::Peer) back: a transport
    /// that can gives its connections a peer only for a router with such a method.
    pub uses_peer: bool,
    /// Whether the method runs alone on its connection: after every earlier message's calls
    /// have ended, and before any later message starts ([`Method::ordered`](crate::Method::ordered)).
    pub ordered: bool,
    /// Other names the method answers to ([`Router::alias`](crate::Router::alias)).
    pub aliases: Vec<Cow<'static, str>>,
    /// For a subscription method: its notifications and its unsubscribe method.
    pub subscription: Option<SubscriptionInfo>,
    /// The application errors it declares: code and message ([`Method::error`](crate::Method::error)).
    pub errors: Vec<(i32, Cow<'static, str>)>,
    /// How its result's schema is made (the `openrpc` feature), when known.
    #[cfg(feature = "openrpc")]
    pub result_schema: Option<crate::schema::TypeSchema>,
}

impl MethodInfo {
    /// Every name the method answers to: its name, then its aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&*self.name).chain(self.aliases.iter().map(|alias| &**alias))
    }
}

/// What is known about one parameter of a method.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParamInfo {
    /// The name used in by-name params.
    pub name: Cow<'static, str>,
    /// The name of its Rust type.
    pub ty: Cow<'static, str>,
    /// Whether it may be left out (or `null`).
    pub optional: bool,
    /// Whether it stands for the whole params (`#[rpc(params)]`): its type's fields are the
    /// parameters on the wire, by name or by position.
    pub whole: bool,
    /// How its schema is made (the `openrpc` feature), when known: for an optional one, the
    /// schema of the type inside the `Option`.
    #[cfg(feature = "openrpc")]
    pub schema: Option<crate::schema::TypeSchema>,
}

impl ParamInfo {
    /// A required parameter.
    pub fn new(name: impl Into<Cow<'static, str>>, ty: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            ty: ty.into(),
            optional: false,
            whole: false,
            #[cfg(feature = "openrpc")]
            schema: None,
        }
    }

    /// Sets how its schema is made (the `openrpc` feature).
    ///
    /// ```
    /// use rpc_core::openrpc::TypeSchema;
    /// use rpc_core::ParamInfo;
    ///
    /// let param = ParamInfo::new("a", "i64").schema(TypeSchema::of::<i64>());
    /// assert!(param.schema.is_some());
    /// ```
    #[cfg(feature = "openrpc")]
    #[must_use]
    pub fn schema(mut self, schema: impl Into<Option<crate::schema::TypeSchema>>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Marks the parameter as optional.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Marks the parameter as the whole params (see [`ParamInfo::whole`](field@ParamInfo::whole)).
    #[must_use]
    pub fn whole(mut self) -> Self {
        self.whole = true;
        self
    }
}

/// What is known about a subscription method, beside its [`MethodInfo`](crate::MethodInfo).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionInfo {
    /// The name of its notifications.
    pub notification: std::borrow::Cow<'static, str>,
    /// The name of the method that ends it.
    pub unsubscribe: std::borrow::Cow<'static, str>,
    /// The name of its items' type, when known.
    pub item: Option<std::borrow::Cow<'static, str>>,
    /// How its items' schema is made (the `openrpc` feature), when known.
    #[cfg(feature = "openrpc")]
    pub item_schema: Option<crate::schema::TypeSchema>,
    /// Whether its method decides before it starts, through a
    /// [`PendingSink`](crate::PendingSink): its subscribe call waits for the decision
    /// ([`Method::pending_sink`](crate::Method::pending_sink)).
    pub pending: bool,
    /// The kind it is of its subscribe name's, when the name has several
    /// ([`Method::kind`](crate::Method::kind)).
    pub kind: Option<std::borrow::Cow<'static, str>>,
    /// Whether the server's end of it is told with an end notice
    /// ([`Method::end_notice`](crate::Method::end_notice)).
    pub end_notice: bool,
    /// Whether unsubscribing an id that is not alive answers an error
    /// ([`Method::unknown_id_errors`](crate::Method::unknown_id_errors)) rather than `false`.
    pub unknown_id_errors: bool,
}
