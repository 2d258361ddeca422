//! The router as an HTTP service: the HTTP semantics of a JSON-RPC endpoint.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use rpc_core::{ErrorObject, Router};
use tracing::Instrument;

/// The largest request body accepted by default: 10 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 10 * 1024 * 1024;

/// How long one request may take by default, from its body's last byte to its answer: 30 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The code of the error a call gets when its request runs out of time.
pub const TIMEOUT_ERROR_CODE: i32 = -32000;

/// The body of every response [`RpcService`] sends.
pub type ResponseBody = Full<Bytes>;

type BoxError = Box<dyn StdError + Send + Sync>;

/// A JSON-RPC endpoint: a [`Router`] as an HTTP service, for hyper and for tower stacks alike.
///
/// It implements the HTTP semantics in the [crate docs](crate#http-semantics). Cloning is
/// cheap (two reference counts), so it can be handed to every connection.
///
/// ```
/// use rpc_core::{rpc_method, Router};
/// use rpc_hyper::RpcService;
/// use std::time::Duration;
///
/// /// Adds two integers.
/// #[rpc_method]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// let mut router = Router::new();
/// router.register(add::method())?;
/// let service = RpcService::new(router)
///     .path("/rpc")
///     .max_body_size(1024 * 1024)
///     .request_timeout(Duration::from_secs(5));
/// # Ok::<(), rpc_core::RegisterError>(())
/// ```
pub struct RpcService<S> {
    router: Arc<Router<S>>,
    config: Arc<Config>,
}

#[derive(Clone, Debug)]
struct Config {
    /// `None`: every path is the endpoint (for mounting under another router's route).
    path: Option<Box<str>>,
    max_body_size: usize,
    request_timeout: Option<Duration>,
}

impl<S: Send + Sync + 'static> RpcService<S> {
    /// The endpoint for `router`, answering on path `/`, with the default limits.
    pub fn new(router: impl Into<Arc<Router<S>>>) -> Self {
        Self {
            router: router.into(),
            config: Arc::new(Config {
                path: Some("/".into()),
                max_body_size: DEFAULT_MAX_BODY_SIZE,
                request_timeout: Some(DEFAULT_REQUEST_TIMEOUT),
            }),
        }
    }

    /// Answers JSON-RPC on `path` only; other paths get `404 Not Found`.
    #[must_use]
    pub fn path(mut self, path: &str) -> Self {
        Arc::make_mut(&mut self.config).path = Some(path.into());
        self
    }

    /// Answers JSON-RPC on every path: for mounting under a route of another router (axum's
    /// `route_service`, say), which has matched the path already.
    #[must_use]
    pub fn any_path(mut self) -> Self {
        Arc::make_mut(&mut self.config).path = None;
        self
    }

    /// Sets the largest request body accepted ([`DEFAULT_MAX_BODY_SIZE`] by default); a larger
    /// one gets `413 Payload Too Large` without more than this being read.
    #[must_use]
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.config).max_body_size = bytes;
        self
    }

    /// Sets how long handling one request may take ([`DEFAULT_REQUEST_TIMEOUT`] by default).
    /// Past it the work is dropped and each call of the request is answered with error
    /// [`TIMEOUT_ERROR_CODE`] "Request timed out". `None` sets no limit.
    #[must_use]
    pub fn request_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        Arc::make_mut(&mut self.config).request_timeout = timeout.into();
        self
    }

    /// The router.
    pub fn router(&self) -> &Arc<Router<S>> {
        &self.router
    }

    /// Answers one HTTP request.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let span = tracing::debug_span!(
            "rpc_request",
            http.method = %request.method(),
            http.path = request.uri().path(),
        );
        async move {
            let started = Instant::now();
            let response = self.respond(request).await;
            tracing::debug!(
                status = response.status().as_u16(),
                micros = started.elapsed().as_micros(),
                "answered"
            );
            response
        }
        .instrument(span)
        .await
    }

    async fn respond<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let config = &*self.config;
        if config
            .path
            .as_deref()
            .is_some_and(|path| request.uri().path() != path)
        {
            return plain(StatusCode::NOT_FOUND, "Not Found");
        }
        if request.method() != Method::POST {
            let mut response = plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method Not Allowed: use POST",
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        if !is_json(request.headers()) {
            return plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type: send Content-Type: application/json",
            );
        }
        if declared_length(request.headers()).is_some_and(|len| len > config.max_body_size as u64) {
            return too_large();
        }
        let body = match Limited::new(request.into_body(), config.max_body_size)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.is::<LengthLimitError>() => return too_large(),
            Err(err) => {
                // The client went away, or sent a malformed chunked body.
                tracing::debug!(error = %err, "reading the request body failed");
                return plain(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: the body could not be read",
                );
            }
        };
        let answer = match config.request_timeout {
            None => self.router.handle(&body).await,
            Some(limit) => match tokio::time::timeout(limit, self.router.handle(&body)).await {
                Ok(answer) => answer,
                Err(_) => {
                    tracing::warn!(
                        limit_ms = limit.as_millis(),
                        "request timed out; its work is dropped"
                    );
                    let error = ErrorObject::server_error(TIMEOUT_ERROR_CODE, "Request timed out");
                    self.router.reject(&body, &error)
                }
            },
        };
        match answer {
            Some(json) => {
                let mut response = Response::new(Full::new(Bytes::from(json)));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            None => {
                let mut response = Response::new(Full::default());
                *response.status_mut() = StatusCode::NO_CONTENT;
                response
            }
        }
    }
}

/// `application/json` or `application/json-rpc`, any parameters (such as `charset`).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence.eq_ignore_ascii_case("application/json-rpc")
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn too_large() -> Response<ResponseBody> {
    plain(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large")
}

fn plain(status: StatusCode, text: &'static str) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

impl<S> Clone for RpcService<S> {
    fn clone(&self) -> Self {
        Self {
            router: Arc::clone(&self.router),
            config: Arc::clone(&self.config),
        }
    }
}

impl<S> fmt::Debug for RpcService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcService")
            .field("router", &self.router)
            .field("config", &self.config)
            .finish()
    }
}

impl<S: Send + Sync + 'static> From<Router<S>> for RpcService<S> {
    fn from(router: Router<S>) -> Self {
        Self::new(router)
    }
}

/// The future of one response.
pub type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, Infallible>> + Send>>;

impl<S, B> tower_service::Service<Request<B>> for RpcService<S>
where
    S: Send + Sync + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> ResponseFuture {
        hyper::service::Service::call(&*self, request)
    }
}

impl<S, B> hyper::service::Service<Request<B>> for RpcService<S>
where
    S: Send + Sync + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, request: Request<B>) -> ResponseFuture {
        let service = self.clone();
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}
