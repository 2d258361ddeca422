//! The router as an HTTP service: the HTTP semantics of a JSON-RPC endpoint.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use http::{Extensions, HeaderMap, Method, Request, Response, StatusCode, Version};
use http_body::Body;
use http_body_util::Full;
use rpc_core::{ErrorObject, NotSync, Router};
use tracing::Instrument;

use crate::connection::Connection;

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
    path: Path,
    max_body_size: usize,
    body_timeout: Duration,
    request_timeout: Option<Duration>,
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
        self.config_mut().path = Path::Only(path.into());
        self
    }

    /// Answers JSON-RPC on every path, also when [`serve`](crate::serve) serves it.
    #[must_use]
    pub fn any_path(mut self) -> Self {
        self.config_mut().path = Path::Any;
        self
    }

    /// For [`serve`](crate::serve): an endpoint served on its own answers on `/` unless told
    /// otherwise.
    pub(crate) fn served_alone(self) -> Self {
        match self.inner.config.path {
            Path::Unset => self.path("/"),
            _ => self,
        }
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
    async fn handle_on<B>(
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
    fn respond<B>(
        &self,
        request: Request<B>,
        connection: Option<Connection>,
    ) -> ResponseFuture<S, B>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        match self.admit(request) {
            Ok((head, body)) => {
                let head = Head {
                    headers: head.headers,
                    extensions: head.extensions,
                    version: head.version,
                    connection,
                };
                ResponseFuture::reading(self.clone(), head, body)
            }
            Err(refusal) => ResponseFuture::ready(refusal.response()),
        }
    }

    /// Checks everything that can be checked before the body is read.
    fn admit<B: Body>(&self, request: Request<B>) -> Result<(http::request::Parts, B), Refusal> {
        let config = &self.inner.config;
        if let Path::Only(path) = &config.path {
            if request.uri().path() != &**path {
                return Err(Refusal::NotFound);
            }
        }
        if request.method() != Method::POST {
            return Err(Refusal::MethodNotAllowed);
        }
        if !is_json(request.headers()) {
            return Err(Refusal::UnsupportedMediaType);
        }
        let (head, body) = request.into_parts();
        // The declared length, as the server parsed it from `Content-Length`: no header lookup.
        if body
            .size_hint()
            .upper()
            .is_some_and(|len| len > config.max_body_size as u64)
        {
            return Err(Refusal::TooLarge);
        }
        Ok((head, body))
    }

    /// What follows a body read in full: a sync router answers at once; otherwise the calls
    /// run in a boxed future, within the request time limit.
    fn dispatch<B>(&self, body: Bytes, head: Head) -> State<S, B> {
        match self.inner.router.handle_sync_with(&body, &head.context()) {
            Ok(answer) => State::Ready {
                response: Some(json_response(answer)),
            },
            Err(NotSync) => {
                let service = self.clone();
                State::Waiting {
                    future: Box::pin(async move { service.dispatch_async(body, head).await }),
                }
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

/// What the calls' context holds of a request: kept, not copied, while its body is read and
/// its calls run.
#[derive(Default)]
struct Head {
    headers: HeaderMap,
    extensions: Extensions,
    version: Version,
    connection: Option<Connection>,
}

impl Head {
    fn context(&self) -> rpc_core::Context<'_> {
        let cx = rpc_core::Context::new()
            .with_headers(&self.headers)
            .with_extensions(&self.extensions)
            .with_version(self.version);
        match self.connection {
            Some(connection) => cx.with_peer(connection.peer).with_connection(connection.id),
            None => cx,
        }
    }
}

/// The response to a body: its answer as JSON, or `204 No Content` when none is due.
fn json_response(answer: Option<Vec<u8>>) -> Response<ResponseBody> {
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

pin_project_lite::pin_project! {
    /// The future of one response from [`RpcService`].
    ///
    /// It reads the body in place and, for a router whose methods are all sync, answers as
    /// soon as the body is in: no allocation for the future itself. A router with async
    /// methods, or a request traced at debug level, takes a boxed path.
    pub struct ResponseFuture<S, B> {
        #[pin]
        state: State<S, B>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<S, B> {
        // The response is known.
        Ready { response: Option<Response<ResponseBody>> },
        // The body is being read; the timer starts if it does not come at once.
        Reading {
            service: RpcService<S>,
            head: Head,
            #[pin]
            body: B,
            reader: BodyReader,
            deadline: Option<Pin<Box<tokio::time::Sleep>>>,
        },
        // Async methods are running, or a traced request is handled.
        Waiting { future: Pin<Box<dyn Future<Output = Response<ResponseBody>> + Send>> },
    }
}

impl<S, B: Body> ResponseFuture<S, B> {
    /// A future that yields `response`: for services that answer some requests themselves
    /// and pass the others to an [`RpcService`], with one future type for both.
    pub fn ready(response: Response<ResponseBody>) -> Self {
        Self {
            state: State::Ready {
                response: Some(response),
            },
        }
    }

    fn reading(service: RpcService<S>, head: Head, body: B) -> Self {
        let config = &service.inner.config;
        let reader = BodyReader::new(config.max_body_size, body.size_hint().lower());
        Self {
            state: State::Reading {
                service,
                head,
                body,
                reader,
                deadline: None,
            },
        }
    }

    fn waiting(future: impl Future<Output = Response<ResponseBody>> + Send + 'static) -> Self {
        Self {
            state: State::Waiting {
                future: Box::pin(future),
            },
        }
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Send + Sync + 'static,
    B: Body,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<ResponseBody>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                StateProj::Ready { response } => {
                    // Polled again after it completed: a broken caller, answered, not a panic.
                    let response = response.take().unwrap_or_else(|| {
                        plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
                    });
                    return Poll::Ready(Ok(response));
                }
                StateProj::Waiting { future } => return future.as_mut().poll(cx).map(Ok),
                StateProj::Reading {
                    service,
                    head,
                    body,
                    reader,
                    deadline,
                } => {
                    let read = match reader.poll_read(body, cx) {
                        Poll::Ready(read) => read,
                        // A body that came with its head is complete at once: no timer. One
                        // still arriving must finish within the body timeout, or a slow
                        // client could hold its connection for ever.
                        Poll::Pending => {
                            let timeout = service.inner.config.body_timeout;
                            let deadline = deadline
                                .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                            if deadline.as_mut().poll(cx).is_pending() {
                                return Poll::Pending;
                            }
                            Err(ReadError::TimedOut)
                        }
                    };
                    match read {
                        Ok(body) => service.dispatch(body, std::mem::take(head)),
                        Err(err) => State::Ready {
                            response: Some(err.response()),
                        },
                    }
                }
            };
            self.as_mut().project().state.set(next);
        }
    }
}

impl<S, B> fmt::Debug for ResponseFuture<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Ready { .. } => "ready",
            State::Reading { .. } => "reading the body",
            State::Waiting { .. } => "waiting",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

/// Reads a whole body, refusing one longer than a limit.
///
/// Most bodies arrive in one chunk, which is kept as it is: no copy and no allocation. Later
/// chunks are gathered into one buffer.
struct BodyReader {
    limit: usize,
    /// How many bytes the body declared (its size hint), for sizing the buffer; at most
    /// [`MAX_UP_FRONT`], as a client's claim is not yet its bytes.
    expected: usize,
    /// How many bytes were read.
    len: usize,
    /// The first chunk.
    first: Bytes,
    /// Every chunk, once there is more than one.
    gathered: Vec<u8>,
}

/// The most buffer reserved for a body before its bytes arrive.
const MAX_UP_FRONT: usize = 256 * 1024;

/// Why a body could not be read.
enum ReadError {
    /// It is longer than the limit.
    TooLarge,
    /// It did not arrive within the body timeout.
    TimedOut,
    /// The client went away, or the framing was malformed.
    Failed(BoxError),
}

impl ReadError {
    fn response(self) -> Response<ResponseBody> {
        match self {
            ReadError::TooLarge => Refusal::TooLarge.response(),
            ReadError::TimedOut => {
                tracing::debug!("the request body did not arrive in time");
                Refusal::BodyTimeout.response()
            }
            ReadError::Failed(err) => {
                // The client went away, or sent a malformed chunked body.
                tracing::debug!(error = %err, "reading the request body failed");
                plain(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: the body could not be read",
                )
            }
        }
    }
}

impl BodyReader {
    fn new(limit: usize, expected: u64) -> Self {
        Self {
            limit,
            expected: usize::try_from(expected)
                .unwrap_or(usize::MAX)
                .min(limit)
                .min(MAX_UP_FRONT),
            len: 0,
            first: Bytes::new(),
            gathered: Vec::new(),
        }
    }

    /// Reads on until the body ends; then yields it.
    fn poll_read<B>(
        &mut self,
        mut body: Pin<&mut B>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Bytes, ReadError>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        loop {
            // A sized body ends with its last byte: no need to poll for the end.
            if self.len > 0 && body.is_end_stream() {
                return Poll::Ready(Ok(self.take()));
            }
            let frame = match body.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(self.take())),
                Poll::Ready(Some(Err(err))) => {
                    return Poll::Ready(Err(ReadError::Failed(err.into())))
                }
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            // Trailers carry nothing for JSON-RPC.
            let Ok(mut data) = frame.into_data() else {
                continue;
            };
            let chunk = data.remaining();
            if chunk > self.limit - self.len {
                return Poll::Ready(Err(ReadError::TooLarge));
            }
            if self.len == 0 {
                self.first = data.copy_to_bytes(chunk);
            } else {
                if self.gathered.is_empty() {
                    self.gathered.reserve(self.expected.max(self.len + chunk));
                    self.gathered.extend_from_slice(&self.first);
                }
                while data.has_remaining() {
                    let part = data.chunk();
                    self.gathered.extend_from_slice(part);
                    let read = part.len();
                    data.advance(read);
                }
            }
            self.len += chunk;
        }
    }

    fn take(&mut self) -> Bytes {
        if self.gathered.is_empty() {
            std::mem::take(&mut self.first)
        } else {
            Bytes::from(std::mem::take(&mut self.gathered))
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
/// Compared as bytes: a content type is ASCII, and no UTF-8 check is needed to find its essence.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return false;
    };
    let value = value.as_bytes();
    let end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
    let essence = value[..end].trim_ascii();
    essence.eq_ignore_ascii_case(b"application/json")
        || essence.eq_ignore_ascii_case(b"application/json-rpc")
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

impl<S, B> tower_service::Service<Request<B>> for RpcService<S>
where
    S: Send + Sync + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
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
    type Future = ResponseFuture<S, B>;

    fn call(&self, request: Request<B>) -> Self::Future {
        // With tracing on, the whole of `handle` (span, timing), boxed.
        let connection = Connection::current();
        if tracing::enabled!(tracing::Level::DEBUG) {
            let service = self.clone();
            return ResponseFuture::waiting(
                async move { service.handle_on(request, connection).await },
            );
        }
        self.respond(request, connection)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use http_body::{Frame, SizeHint};

    use super::*;

    /// A body that yields the frames it was given, one per poll, then ends.
    struct Frames {
        frames: VecDeque<Result<Frame<Bytes>, &'static str>>,
        hint: u64,
    }

    impl Frames {
        fn new(frames: impl IntoIterator<Item = Result<Frame<Bytes>, &'static str>>) -> Self {
            Self {
                frames: frames.into_iter().collect(),
                hint: 0,
            }
        }

        fn data(chunks: &[&'static str]) -> Self {
            Self::new(
                chunks
                    .iter()
                    .map(|chunk| Ok(Frame::data(Bytes::from_static(chunk.as_bytes())))),
            )
        }
    }

    impl Body for Frames {
        type Data = Bytes;
        type Error = &'static str;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, &'static str>>> {
            Poll::Ready(self.frames.pop_front())
        }

        fn size_hint(&self) -> SizeHint {
            let mut hint = SizeHint::new();
            hint.set_lower(self.hint);
            hint
        }
    }

    fn read(limit: usize, body: Frames) -> Result<Bytes, ReadError> {
        let mut body = pin!(body);
        let mut reader = BodyReader::new(limit, body.size_hint().lower());
        match reader.poll_read(
            body.as_mut(),
            &mut Context::from_waker(std::task::Waker::noop()),
        ) {
            Poll::Ready(read) => read,
            Poll::Pending => panic!("every frame is ready"),
        }
    }

    #[test]
    fn one_chunk_is_kept_as_it_is() {
        let chunk = Bytes::from_static(b"{}");
        let body = Frames::new([Ok(Frame::data(chunk.clone()))]);
        let read = read(10, body).ok().unwrap();
        assert_eq!(read, chunk);
        assert_eq!(read.as_ptr(), chunk.as_ptr(), "the chunk was copied");
    }

    #[test]
    fn chunks_are_gathered_in_order_and_trailers_skipped() {
        let mut body = Frames::data(&["[1,", "2,", "3]"]);
        body.frames.insert(1, Ok(Frame::trailers(HeaderMap::new())));
        body.hint = 7;
        assert_eq!(read(7, body).ok().unwrap(), "[1,2,3]");
        assert_eq!(read(10, Frames::new([])).ok().unwrap(), "");
    }

    #[test]
    fn a_body_over_the_limit_is_refused_at_the_chunk_that_crosses_it() {
        assert!(matches!(
            read(6, Frames::data(&["[1,", "2,", "3]"])),
            Err(ReadError::TooLarge)
        ));
        assert!(matches!(
            read(2, Frames::data(&["[1,2,3]"])),
            Err(ReadError::TooLarge)
        ));
        // At the limit exactly is fine, and a wrong size hint changes nothing.
        let mut body = Frames::data(&["[1,", "2,", "3]"]);
        body.hint = u64::MAX;
        assert_eq!(read(7, body).ok().unwrap(), "[1,2,3]");
    }

    #[test]
    fn a_failing_body_is_an_error() {
        let body = Frames::new([Ok(Frame::data(Bytes::from_static(b"[1,"))), Err("reset")]);
        match read(10, body) {
            Err(ReadError::Failed(err)) => assert_eq!(err.to_string(), "reset"),
            _ => panic!("the failure was not reported"),
        }
    }

    #[test]
    fn content_types_are_matched_on_their_essence() {
        let accepts = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
            is_json(&headers)
        };
        for yes in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            " application/json ;charset=utf-8",
            "application/json-rpc",
        ] {
            assert!(accepts(yes), "{yes:?} was refused");
        }
        for no in [
            "text/plain",
            "application/jsonx",
            "application/json-rpc2",
            "json",
            "",
        ] {
            assert!(!accepts(no), "{no:?} was accepted");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
