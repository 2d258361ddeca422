//! The router's entry points: a request body in, its response body (or nothing) out, with a
//! context or without, waiting or at once. The machinery behind them is in `dispatch`.

use std::future::Future;

use crate::context::EMPTY;
use crate::dispatch::Mode;
use crate::{Context, ErrorObject, NotSync, Router};

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
}
