//! The tutorial's calculator: four methods over 64-bit integers, served at `POST /rpc`, with a
//! greeting at `GET /`.

use std::future::Future;
use std::io;

use axum::routing::get;
use rpc_core::{rpc_method, ErrorObject, Router};
use rpc_hyper::RpcService;
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
pub fn app() -> axum::Router {
    axum::Router::new()
        .route("/", get(|| async { "Hello, world!" }))
        .route_service("/rpc", RpcService::new(router()).any_path())
}

/// Serves the calculator on `listener` until `shutdown` completes, then drains gracefully.
///
/// # Errors
/// When the listener fails.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    rpc_hyper::serve_service(listener, app())
        .with_graceful_shutdown(shutdown)
        .await
}
