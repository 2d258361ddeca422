//! How the router words answers a server may need in another form, to match the server it
//! replaces: the errors of params that do not decode, and the answer to a subscribe call over
//! a transport that cannot push.

use crate::{ErrorCode, ErrorObject, ParamsError, Router};

/// Words a decode error for the caller: [`Router::params_errors`].
pub(crate) type ParamsShaper = dyn Fn(&str, &ParamsError) -> ErrorObject + Send + Sync;

/// `error`, worded by `shaper` if it is a decode error and there is one.
pub(crate) fn shape(
    shaper: Option<&ParamsShaper>,
    method: &str,
    error: ErrorObject,
) -> ErrorObject {
    match (shaper, error.params_error()) {
        (Some(shaper), Some(fault)) => shaper(method, fault),
        _ => error,
    }
}

impl<S: Send + Sync + 'static> Router<S> {
    /// Sets the error a subscribe call gets over a transport that cannot push (plain HTTP).
    /// By default it is -32009 "Subscriptions need a WebSocket connection", naming the method
    /// in its `data`. A server that stands in for an Ethereum node answers what go-ethereum
    /// does, [`geth::notifications_not_supported`](crate::geth::notifications_not_supported)
    /// (-32601 "notifications not supported"): go-ethereum's client falls back to polling on
    /// that answer alone.
    ///
    /// ```
    /// use rpc_core::{geth, Router};
    ///
    /// let mut router = Router::new();
    /// router.cannot_push_error(geth::notifications_not_supported());
    /// ```
    pub fn cannot_push_error(&mut self, error: ErrorObject) -> &mut Self {
        self.cannot_push = Some(error);
        self
    }

    /// Words the errors of params that do not decode (a wrong type, a missing, surplus or
    /// unknown parameter) with `shape`, given the method's name and what went wrong. By
    /// default they are -32602 "Invalid params" with a sentence in `data`
    /// (`parameter "a": invalid type: ...`). A server that stands in for an Ethereum node
    /// answers as go-ethereum does, with the reason and the position in the message, which
    /// is what viem and ethers show their users: [`geth::invalid_argument`].
    ///
    /// Layers see a call's error as its method gave it; the shaper words it as it is
    /// answered.
    ///
    /// ```
    /// use rpc_core::{geth, rpc_method, Router};
    ///
    /// /// Adds two integers.
    /// #[rpc_method]
    /// fn add(a: i64, b: i64) -> i64 {
    ///     a + b
    /// }
    ///
    /// let mut router = Router::new();
    /// router.register(add::method())?.params_errors(geth::invalid_argument);
    /// let answer = router
    ///     .handle_sync(br#"{"jsonrpc":"2.0","method":"add","params":[1,"2"],"id":1}"#)
    ///     .unwrap()
    ///     .unwrap();
    /// assert_eq!(
    ///     String::from_utf8(answer).unwrap(),
    ///     r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"invalid argument 1: invalid type: string \"2\", expected i64"},"id":1}"#
    /// );
    /// # Ok::<(), rpc_core::RegisterError>(())
    /// ```
    ///
    /// [`geth::invalid_argument`]: crate::geth::invalid_argument
    pub fn params_errors(
        &mut self,
        shape: impl Fn(&str, &ParamsError) -> ErrorObject + Send + Sync + 'static,
    ) -> &mut Self {
        self.params_shaper = Some(Box::new(shape));
        self
    }

    /// `error`, worded by the router's shaper if it is a decode error and there is one.
    #[cold]
    pub(crate) fn shape(&self, method: &str, error: ErrorObject) -> ErrorObject {
        shape(self.params_shaper.as_deref(), method, error)
    }
}

impl<S> Router<S> {
    /// The error a subscribe call of `name` gets over a transport that cannot push: the
    /// router's choice ([`Router::cannot_push_error`]), or -32009.
    pub(crate) fn needs_push(&self, name: &str) -> ErrorObject {
        match &self.cannot_push {
            Some(error) => error.clone(),
            None => ErrorObject::server_error(
                ErrorCode::SUBSCRIPTION_NEEDS_WEBSOCKET.code(),
                "Subscriptions need a WebSocket connection",
            )
            .with_data(format!(
                "`{name}` pushes notifications: call it over a WebSocket"
            )),
        }
    }
}
