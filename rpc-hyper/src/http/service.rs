//! The router as an HTTP service: the HTTP semantics of a JSON-RPC endpoint.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body::Body;
use rpc_core::{ErrorObject, NotSync, Router};
use tracing::Instrument;

use super::future::{Answering, ResponseFuture};
use super::health::Health;
use super::reply::{health_response, is_json, json_response, request_span, Refusal};
use crate::head::Head;
use crate::local::Connection;
use crate::response::ResponseBody;
use crate::served::BoxError;
use crate::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_SIZE, DEFAULT_REQUEST_TIMEOUT, TIMEOUT_ERROR_CODE,
};

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
    pub(super) inner: Arc<Inner<S>>,
}

pub(super) struct Inner<S> {
    pub(super) router: Arc<Router<S>>,
    pub(super) config: Config,
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
pub(super) struct Config {
    path: Path,
    pub(super) health: Health,
    pub(super) max_body_size: usize,
    pub(super) body_timeout: Duration,
    request_timeout: Option<Duration>,
    #[cfg(feature = "ws")]
    pub(super) ws: crate::ws::Config,
}

/// Which paths the endpoint answers on.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Path {
    /// Not chosen: `/` when [`serve`](crate::serve) serves the endpoint itself; any path when
    /// it is mounted in another router, which matched the path already.
    Unset,
    /// This path only.
    Only(Box<str>),
    /// Every path.
    Any,
}

impl<S: Send + Sync + 'static> RpcService<S> {
    /// The endpoint for `router`, with the default limits.
    ///
    /// Unless [`RpcService::path`] or [`RpcService::any_path`] says otherwise, it answers on
    /// `/` when [`serve`](crate::serve) serves it (other paths get `404 Not Found`), and on
    /// any path when it is mounted in another router (axum's `route_service` or
    /// `nest_service`, or any tower stack run by [`serve_service`](crate::serve_service)):
    /// that router matched the path already, so mounting works the obvious way.
    pub fn new(router: impl Into<Arc<Router<S>>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                router: router.into(),
                config: Config {
                    path: Path::Unset,
                    health: Health::Unset,
                    max_body_size: DEFAULT_MAX_BODY_SIZE,
                    body_timeout: DEFAULT_BODY_TIMEOUT,
                    request_timeout: Some(DEFAULT_REQUEST_TIMEOUT),
                    #[cfg(feature = "ws")]
                    ws: crate::ws::Config::default(),
                },
            }),
        }
    }

    /// Answers JSON-RPC on `path` only; other paths get `404 Not Found`.
    #[must_use]
    pub fn path(mut self, path: &str) -> Self {
        self.config_mut().path = Path::Only(path.into());
        self
    }

    /// Answers JSON-RPC on every path, also when [`serve`](crate::serve) serves it.
    #[must_use]
    pub fn any_path(mut self) -> Self {
        self.config_mut().path = Path::Any;
        self
    }

    /// For [`serve`](crate::serve): an endpoint served on its own answers on `/`, and its
    /// health check on `/health`, unless told otherwise.
    pub(crate) fn served_alone(mut self) -> Self {
        if self.inner.config.health == Health::Unset {
            self = self.health_path("/health");
        }
        match self.inner.config.path {
            Path::Unset => self.path("/"),
            _ => self,
        }
    }

    /// Sets the largest request body accepted ([`DEFAULT_MAX_BODY_SIZE`] by default); a larger
    /// one gets `413 Payload Too Large` without more than this being read. It bounds what is
    /// sent too: a call whose result is larger is answered with error -32008 "Result too
    /// large" instead (over WebSocket, the limit of a message either way).
    #[must_use]
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.config_mut().max_body_size = bytes;
        #[cfg(feature = "ws")]
        {
            self.config_mut().ws.engine.max_message_size = bytes;
        }
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
        let timeout = timeout.into();
        self.config_mut().request_timeout = timeout;
        #[cfg(feature = "ws")]
        {
            self.config_mut().ws.engine.request_timeout = timeout;
        }
        self
    }

    /// The router.
    pub fn router(&self) -> &Arc<Router<S>> {
        &self.inner.router
    }

    pub(super) fn config_mut(&mut self) -> &mut Config {
        &mut Arc::make_mut(&mut self.inner).config
    }

    /// Answers one HTTP request. Run on a connection of [`serve`](crate::serve), the
    /// calls' context has the connection's peer address and id.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        self.handle_on(request, Connection::current()).await
    }

    /// [`RpcService::handle`], for a request that came on `connection`.
    pub(super) async fn handle_on<B>(
        &self,
        request: Request<B>,
        connection: Option<Connection>,
    ) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let span = request_span(&request);
        // A span and two clock reads a request: only when someone listens.
        if span.is_disabled() {
            return self
                .respond(request, connection)
                .await
                .unwrap_or_else(|never| match never {});
        }
        let started = Instant::now();
        let response = span
            .in_scope(|| self.respond(request, connection))
            .instrument(span.clone())
            .await
            .unwrap_or_else(|never| match never {});
        span.in_scope(|| {
            tracing::debug!(
                status = response.status().as_u16(),
                micros = started.elapsed().as_micros(),
                "answered"
            );
        });
        response
    }

    /// The untraced way through [`RpcService::handle`]: the future the services return.
    #[inline(always)]
    pub(super) fn respond<B>(
        &self,
        request: Request<B>,
        connection: Option<Connection>,
    ) -> ResponseFuture<S, B>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        // On one path, the health check is looked for only off it (in `admit`): the calls
        // pay nothing for it.
        if !matches!(self.inner.config.path, Path::Only(_)) && self.is_health_check(&request) {
            return ResponseFuture::ready(health_response());
        }
        #[cfg(feature = "ws")]
        if crate::ws::is_upgrade(&request) {
            let config = &self.inner.config;
            if let Path::Only(path) = &config.path {
                if request.uri().path() != &**path {
                    return ResponseFuture::ready(Refusal::NotFound.response());
                }
            }
            let router = &self.inner.router;
            let answer = crate::ws::upgrade(router, &config.ws, request, connection);
            return ResponseFuture::ready(answer);
        }
        match self.admit(request) {
            Ok((head, body)) => {
                let head = Head {
                    headers: head.headers,
                    extensions: head.extensions,
                    version: head.version,
                    connection,
                    max_result_len: self.inner.config.max_body_size,
                };
                ResponseFuture::reading(self.clone(), head, body)
            }
            Err((refusal, unread)) => {
                if unread {
                    self.linger_after_refusal();
                }
                ResponseFuture::ready(refusal.response())
            }
        }
    }

    /// An answer goes out before the request's body is read in full: over HTTP/1 the
    /// connection (when `serve` serves it) reads and drops the rest before closing, so that a
    /// client still writing sees the answer instead of a reset. Up to twice the body limit (1
    /// MiB at least): a client that keeps writing past that is cut off.
    pub(super) fn linger_after_refusal(&self) {
        let bytes = self.inner.config.max_body_size.saturating_mul(2);
        Connection::linger_before_close(bytes.max(1024 * 1024));
    }

    /// Checks everything that can be checked before the body is read; a refusal says
    /// whether a body is still to come.
    #[allow(clippy::type_complexity)]
    #[inline(always)]
    fn admit<B: Body>(
        &self,
        request: Request<B>,
    ) -> Result<(http::request::Parts, B), (Refusal, bool)> {
        let config = &self.inner.config;
        let refuse = |refusal, body: &B| Err((refusal, !body.is_end_stream()));
        if let Path::Only(path) = &config.path {
            if request.uri().path() != &**path {
                if self.is_health_check(&request) {
                    return refuse(Refusal::HealthCheck, request.body());
                }
                return refuse(Refusal::NotFound, request.body());
            }
        }
        if request.method() != Method::POST {
            return refuse(Refusal::MethodNotAllowed, request.body());
        }
        if !is_json(request.headers()) {
            return refuse(Refusal::UnsupportedMediaType, request.body());
        }
        let (head, body) = request.into_parts();
        // The declared length, as the server parsed it from `Content-Length`: no header lookup.
        if body
            .size_hint()
            .upper()
            .is_some_and(|len| len > config.max_body_size as u64)
        {
            return refuse(Refusal::TooLarge, &body);
        }
        Ok((head, body))
    }

    /// What follows a body read in full: a sync router answers at once, with the head
    /// borrowed where it lies; otherwise the calls run in a boxed future that takes the head
    /// along, within the request time limit.
    pub(super) fn dispatch(
        &self,
        body: Bytes,
        head: &mut Head,
    ) -> Result<Response<ResponseBody>, Answering> {
        match self.inner.router.handle_sync_with(&body, &head.context()) {
            Ok(answer) => Ok(json_response(answer)),
            Err(NotSync) => {
                let service = self.clone();
                let head = std::mem::take(head);
                Err(Box::pin(
                    async move { service.dispatch_async(body, head).await },
                ))
            }
        }
    }

    /// Runs the calls of a body on a router with async methods.
    async fn dispatch_async(&self, body: Bytes, head: Head) -> Response<ResponseBody> {
        let cx = head.context();
        let mut handling = pin!(self.inner.router.handle_with(&body, &cx));
        // Most requests (every sync method) are answered on the first poll: they need no timer.
        let first = poll_fn(|cx| Poll::Ready(handling.as_mut().poll(cx))).await;
        let answer = match (first, self.inner.config.request_timeout) {
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
        json_response(answer)
    }
}
