//! A JSON-RPC endpoint mounted inside an axum app, beside ordinary routes, with a tower-http
//! layer on the RPC route alone.

use axum::routing::get;
use rpc_core::{rpc_method, Router};
use rpc_hyper::RpcService;
use tower_http::cors::CorsLayer;

/// Echoes its text back.
#[rpc_method]
fn echo(text: String) -> String {
    text
}

/// The axum app: `GET /` and `GET /health` are axum's, `POST /rpc` is ours.
///
/// # Panics
/// Never: the one method name is registered once.
pub fn app() -> axum::Router {
    let mut router = Router::new();
    router.register(echo::method()).expect("one registration");
    // axum has matched the path already, so the endpoint answers on any path it is given.
    let rpc = RpcService::new(router).any_path();
    axum::Router::new()
        .route("/", get(|| async { "Hello from axum" }))
        .route("/health", get(|| async { "ok" }))
        // CORS on the RPC route only; it is off unless added like this.
        .route_service(
            "/rpc",
            tower::ServiceBuilder::new()
                .layer(CorsLayer::permissive())
                .service(rpc),
        )
}
