//! The tutorial's calculator: four methods over 64-bit integers, served at `POST /rpc`, with a
//! greeting at `GET /`.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::task::{Context, Poll};

use rpc_core::{rpc_method, ErrorObject, Router};
use rpc_hyper::{ResponseBody, ResponseFuture, RpcService};
use tokio::net::TcpListener;

/// The address the calculator listens on unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:5000";

fn overflow() -> ErrorObject {
    ErrorObject::invalid_params("integer overflow")
}

/// Adds two integers.
///
/// # Errors
/// Invalid params when the sum does not fit in 64 bits.
#[rpc_method]
pub fn add(a: i64, b: i64) -> Result<i64, ErrorObject> {
    a.checked_add(b).ok_or_else(overflow)
}

/// Subtracts `b` from `a`.
///
/// # Errors
/// Invalid params when the difference does not fit in 64 bits.
#[rpc_method]
pub fn subtract(a: i64, b: i64) -> Result<i64, ErrorObject> {
    a.checked_sub(b).ok_or_else(overflow)
}

/// Multiplies two integers.
///
/// # Errors
/// Invalid params when the product does not fit in 64 bits.
#[rpc_method]
pub fn multiply(a: i64, b: i64) -> Result<i64, ErrorObject> {
    a.checked_mul(b).ok_or_else(overflow)
}

/// Divides `a` by `b`, as a float: `6 / 3` is `2.0`.
///
/// # Errors
/// Invalid params when `b` is zero.
#[rpc_method]
pub fn divide(a: i64, b: i64) -> Result<f64, ErrorObject> {
    if b == 0 {
        return Err(ErrorObject::invalid_params("division by zero"));
    }
    #[allow(clippy::cast_precision_loss)] // a float answer is the point
    Ok(a as f64 / b as f64)
}

/// The calculator's methods.
///
/// # Panics
/// Never: the four names are distinct.
pub fn router() -> Router {
    let mut router = Router::new();
    router
        .register(add::method())
        .and_then(|r| r.register(subtract::method()))
        .and_then(|r| r.register(multiply::method()))
        .and_then(|r| r.register(divide::method()))
        .expect("distinct names");
    router
}

/// The HTTP app: `GET /` greets, `POST /rpc` is JSON-RPC, anything else is 404.
///
/// A route beside the endpoint needs no web framework: a small tower service sends `/` to
/// the greeting and everything else to the endpoint. (`examples/axum.rs` mounts the endpoint
/// in axum instead.)
#[derive(Clone, Debug)]
pub struct App {
    rpc: RpcService<()>,
}

/// The calculator's app: JSON-RPC over HTTP and WebSocket at `/rpc`. Browser pages may open
/// a WebSocket from `allowed_origins` only.
pub fn app(allowed_origins: &[String]) -> App {
    let rpc = allowed_origins
        .iter()
        .fold(RpcService::new(router()).path("/rpc"), |rpc, origin| {
            rpc.allow_origin(origin)
        });
    App { rpc }
}

impl<B> tower::Service<http::Request<B>> for App
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Response = http::Response<ResponseBody>;
    type Error = Infallible;
    type Future = ResponseFuture<(), B>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != "/" {
            return self.rpc.call(request);
        }
        let response =
            if request.method() == http::Method::GET || request.method() == http::Method::HEAD {
                http::Response::new(ResponseBody::from("Hello, world!"))
            } else {
                let mut response = http::Response::new(ResponseBody::default());
                *response.status_mut() = http::StatusCode::METHOD_NOT_ALLOWED;
                response.headers_mut().insert(
                    http::header::ALLOW,
                    http::HeaderValue::from_static("GET, HEAD"),
                );
                response
            };
        ResponseFuture::ready(response)
    }
}

/// Serves the calculator on `listener` until `shutdown` completes, then drains gracefully.
///
/// # Errors
/// When the listener fails.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with(listener, rpc_hyper::DEFAULT_MAX_CONNECTIONS, &[], shutdown).await
}

/// Like [`serve`], with at most `max_connections` served at once, and WebSockets from browser
/// pages of `allowed_origins`.
///
/// # Errors
/// When the listener fails.
pub async fn serve_with(
    listener: TcpListener,
    max_connections: usize,
    allowed_origins: &[String],
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    rpc_hyper::serve_service(listener, app(allowed_origins))
        .max_connections(max_connections)
        .with_graceful_shutdown(shutdown)
        .await
}
