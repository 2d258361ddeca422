//! Bearer-token authentication in front of the JSON-RPC endpoint, as a tower layer: a request
//! without the right token is answered `401 Unauthorized` before any method runs.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode};
use rpc_hyper::ResponseBody;
use subtle::ConstantTimeEq;

/// A tower layer that lets through only requests carrying `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct BearerAuthLayer {
    token: Arc<[u8]>,
}

impl BearerAuthLayer {
    /// Accepts `token` only.
    pub fn new(token: impl AsRef<[u8]>) -> Self {
        Self {
            token: token.as_ref().into(),
        }
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
            token: Arc::clone(&self.token),
        }
    }
}

/// The service [`BearerAuthLayer`] wraps around the endpoint.
#[derive(Clone)]
pub struct BearerAuth<S> {
    inner: S,
    token: Arc<[u8]>,
}

impl<S> std::fmt::Debug for BearerAuth<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerAuth").finish_non_exhaustive()
    }
}

impl<S> BearerAuth<S> {
    /// Whether the request carries the token. The comparison takes the same time wherever the
    /// first wrong byte is, so timing tells an attacker nothing about the token's bytes (only,
    /// as with any comparison, whether the length matched).
    fn authorized<B>(&self, request: &Request<B>) -> bool {
        let Some(given) = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "))
        else {
            return false;
        };
        bool::from(given.ct_eq(&self.token))
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

    fn call(&mut self, request: Request<B>) -> AuthFuture {
        if self.authorized(&request) {
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
