//! The router as an HTTP service: the HTTP semantics of a JSON-RPC endpoint.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
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

/// How long a client may take to send a request body by default: 10 s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// One reference count for the lot: a clone per request is one atomic increment.
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    router: Arc<Router<S>>,
    config: Config,
}

impl<S> Clone for Inner<S> {
    fn clone(&self) -> Self {
        Self {
            router: Arc::clone(&self.router),
            config: self.config.clone(),
        }
    }
}

#[derive(Clone, Debug)]
struct Config {
    /// `None`: every path is the endpoint (for mounting under another router's route).
    path: Option<Box<str>>,
    max_body_size: usize,
    body_timeout: Duration,
    request_timeout: Option<Duration>,
}

impl<S: Send + Sync + 'static> RpcService<S> {
    /// The endpoint for `router`, answering on path `/`, with the default limits.
    pub fn new(router: impl Into<Arc<Router<S>>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                router: router.into(),
                config: Config {
                    path: Some("/".into()),
                    max_body_size: DEFAULT_MAX_BODY_SIZE,
                    body_timeout: DEFAULT_BODY_TIMEOUT,
                    request_timeout: Some(DEFAULT_REQUEST_TIMEOUT),
                },
            }),
        }
    }

    /// Answers JSON-RPC on `path` only; other paths get `404 Not Found`.
    #[must_use]
    pub fn path(mut self, path: &str) -> Self {
        self.config_mut().path = Some(path.into());
        self
    }

    /// Answers JSON-RPC on every path: for mounting under a route of another router (axum's
    /// `route_service`, say), which has matched the path already.
    #[must_use]
    pub fn any_path(mut self) -> Self {
        self.config_mut().path = None;
        self
    }

    /// Sets the largest request body accepted ([`DEFAULT_MAX_BODY_SIZE`] by default); a larger
    /// one gets `413 Payload Too Large` without more than this being read.
    #[must_use]
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.config_mut().max_body_size = bytes;
        self
    }

    /// Sets how long a client may take to send a request's body once its head has arrived
    /// ([`DEFAULT_BODY_TIMEOUT`] by default); a client that stalls mid-body gets
    /// `408 Request Timeout` and its connection is freed.
    #[must_use]
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.config_mut().body_timeout = timeout;
        self
    }

    /// Sets how long handling one request may take ([`DEFAULT_REQUEST_TIMEOUT`] by default).
    /// Past it the work is dropped and each call of the request is answered with error
    /// [`TIMEOUT_ERROR_CODE`] "Request timed out". `None` sets no limit.
    #[must_use]
    pub fn request_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config_mut().request_timeout = timeout.into();
        self
    }

    /// The router.
    pub fn router(&self) -> &Arc<Router<S>> {
        &self.inner.router
    }

    fn config_mut(&mut self) -> &mut Config {
        &mut Arc::make_mut(&mut self.inner).config
    }

    /// Answers one HTTP request.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let span = request_span(&request);
        // A span and two clock reads a request: only when someone listens.
        if span.is_disabled() {
            return match self.admit(request) {
                Ok(body) => self.answer(body).await,
                Err(refusal) => refusal.response(),
            };
        }
        let started = Instant::now();
        let response = match span.in_scope(|| self.admit(request)) {
            Ok(body) => self.answer(body).instrument(span.clone()).await,
            Err(refusal) => refusal.response(),
        };
        span.in_scope(|| {
            tracing::debug!(
                status = response.status().as_u16(),
                micros = started.elapsed().as_micros(),
                "answered"
            );
        });
        response
    }

    /// Checks everything that can be checked before the body is read, and keeps only the
    /// body: the future that reads and answers it then holds no request head.
    fn admit<B>(&self, request: Request<B>) -> Result<B, Refusal> {
        let config = &self.inner.config;
        if config
            .path
            .as_deref()
            .is_some_and(|path| request.uri().path() != path)
        {
            return Err(Refusal::NotFound);
        }
        if request.method() != Method::POST {
            return Err(Refusal::MethodNotAllowed);
        }
        if !is_json(request.headers()) {
            return Err(Refusal::UnsupportedMediaType);
        }
        if declared_length(request.headers()).is_some_and(|len| len > config.max_body_size as u64) {
            return Err(Refusal::TooLarge);
        }
        Ok(request.into_body())
    }

    /// Reads the body (within the limit), dispatches it, and answers.
    async fn answer<B>(&self, body: B) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let config = &self.inner.config;
        let mut collecting = pin!(Limited::new(body, config.max_body_size).collect());
        // A body that came with its head is complete at once: no timer. One still arriving must
        // finish within the body timeout, or a slow client could hold its connection for ever.
        let collected = match poll_fn(|cx| Poll::Ready(collecting.as_mut().poll(cx))).await {
            Poll::Ready(collected) => collected,
            Poll::Pending => {
                match Box::pin(tokio::time::timeout(config.body_timeout, collecting)).await {
                    Ok(collected) => collected,
                    Err(_) => {
                        tracing::debug!("the request body did not arrive in time");
                        return Refusal::BodyTimeout.response();
                    }
                }
            }
        };
        let body = match collected {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.is::<LengthLimitError>() => return Refusal::TooLarge.response(),
            Err(err) => {
                // The client went away, or sent a malformed chunked body.
                tracing::debug!(error = %err, "reading the request body failed");
                return plain(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: the body could not be read",
                );
            }
        };
        let mut handling = pin!(self.inner.router.handle(&body));
        // Most requests (every sync method) are answered on the first poll: they need no timer.
        let first = poll_fn(|cx| Poll::Ready(handling.as_mut().poll(cx))).await;
        let answer = match (first, config.request_timeout) {
            (Poll::Ready(answer), _) => answer,
            (Poll::Pending, None) => handling.await,
            // Boxed: a timer is large, and most requests never need one.
            (Poll::Pending, Some(limit)) => {
                match Box::pin(tokio::time::timeout(limit, handling)).await {
                    Ok(answer) => answer,
                    Err(_) => {
                        tracing::warn!(
                            limit_ms = limit.as_millis(),
                            "request timed out; its work is dropped"
                        );
                        let error =
                            ErrorObject::server_error(TIMEOUT_ERROR_CODE, "Request timed out");
                        self.inner.router.reject(&body, &error)
                    }
                }
            }
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

/// The span of one request; disabled (and free) unless a subscriber wants debug spans.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "rpc_request",
        http.method = %request.method(),
        http.path = request.uri().path(),
    )
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

/// Why a request is refused before its body is read.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    NotFound,
    MethodNotAllowed,
    UnsupportedMediaType,
    TooLarge,
    BodyTimeout,
}

impl Refusal {
    fn response(self) -> Response<ResponseBody> {
        match self {
            Refusal::NotFound => plain(StatusCode::NOT_FOUND, "Not Found"),
            Refusal::MethodNotAllowed => {
                let mut response = plain(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "Method Not Allowed: use POST",
                );
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("POST"));
                response
            }
            Refusal::UnsupportedMediaType => plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type: send Content-Type: application/json",
            ),
            Refusal::TooLarge => plain(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large"),
            Refusal::BodyTimeout => {
                let mut response = plain(
                    StatusCode::REQUEST_TIMEOUT,
                    "Request Timeout: the body was too slow",
                );
                // The rest of the body may still come: the connection cannot be reused.
                response
                    .headers_mut()
                    .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
                response
            }
        }
    }
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
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S> fmt::Debug for RpcService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcService")
            .field("router", &self.inner.router)
            .field("config", &self.inner.config)
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
        // With tracing on, the whole of `handle` (span, timing); otherwise the request is
        // admitted here, and the boxed future holds only the body.
        if tracing::enabled!(tracing::Level::DEBUG) {
            return Box::pin(async move { Ok(service.handle(request).await) });
        }
        match service.admit(request) {
            Ok(body) => Box::pin(async move { Ok(service.answer(body).await) }),
            Err(refusal) => Box::pin(std::future::ready(Ok(refusal.response()))),
        }
    }
}
