//! Bearer-token authentication in front of the JSON-RPC endpoint, as a tower layer: a request
//! without a known token is answered `401 Unauthorized` before any method runs, and one with a
//! known token carries its [`Identity`] into every call's context (`Ext<'_, Identity>` in a
//! method, `call.context().get::<Identity>()` in a call layer).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode};
use rpc_hyper::ResponseBody;
use subtle::ConstantTimeEq;

/// Who a request comes from, as the token it carried says: inserted into the request's
/// extensions, and so into the context of each of its calls.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity(pub Arc<str>);

impl Identity {
    /// The identity's name.
    pub fn name(&self) -> &str {
        &self.0
    }
}

/// The tokens a layer accepts, each with the identity it stands for.
type Tokens = Arc<[(Box<[u8]>, Identity)]>;

/// A tower layer that lets through only requests carrying `Authorization: Bearer <token>` with
/// a token it knows.
#[derive(Clone)]
pub struct BearerAuthLayer {
    tokens: Tokens,
}

impl BearerAuthLayer {
    /// Accepts `token` only, as the identity `client`.
    pub fn new(token: impl AsRef<[u8]>) -> Self {
        Self::with_users([(token, "client")])
    }

    /// Accepts each token, as the identity it is paired with.
    pub fn with_users<T: AsRef<[u8]>>(users: impl IntoIterator<Item = (T, &'static str)>) -> Self {
        let tokens = users
            .into_iter()
            .map(|(token, name)| (token.as_ref().into(), Identity(name.into())))
            .collect();
        Self { tokens }
    }
}

impl std::fmt::Debug for BearerAuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("BearerAuthLayer").finish_non_exhaustive()
    }
}

impl<S> tower::Layer<S> for BearerAuthLayer {
    type Service = BearerAuth<S>;

    fn layer(&self, inner: S) -> BearerAuth<S> {
        BearerAuth {
            inner,
            tokens: Arc::clone(&self.tokens),
        }
    }
}

/// The service [`BearerAuthLayer`] wraps around the endpoint.
#[derive(Clone)]
pub struct BearerAuth<S> {
    inner: S,
    tokens: Tokens,
}

impl<S> std::fmt::Debug for BearerAuth<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerAuth").finish_non_exhaustive()
    }
}

impl<S> BearerAuth<S> {
    /// Who the request's token says it comes from, if the token is known. Every token is
    /// compared, each in the same time wherever the first wrong byte is, so timing tells an
    /// attacker nothing about the tokens' bytes (only, as with any comparison, whether a
    /// length matched).
    fn identify<B>(&self, request: &Request<B>) -> Option<Identity> {
        let given = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "))?;
        let mut found = None;
        for (token, identity) in self.tokens.iter() {
            if bool::from(given.ct_eq(token)) {
                found = Some(identity.clone());
            }
        }
        found
    }
}

/// The future of a response through [`BearerAuth`]: boxed, as it is either the inner
/// service's or a refusal (a layer in a hot path would name an enum of the two instead).
pub type AuthFuture =
    Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, Infallible>> + Send>>;

impl<S, B> tower::Service<Request<B>> for BearerAuth<S>
where
    S: tower::Service<Request<B>, Response = Response<ResponseBody>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = AuthFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> AuthFuture {
        if let Some(identity) = self.identify(&request) {
            request.extensions_mut().insert(identity);
            return Box::pin(self.inner.call(request));
        }
        let mut response = Response::new(ResponseBody::from("Unauthorized"));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        Box::pin(std::future::ready(Ok(response)))
    }
}
