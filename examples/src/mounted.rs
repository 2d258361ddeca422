//! A JSON-RPC endpoint mounted inside an axum app, beside ordinary routes, with a tower-http
//! layer on the RPC route alone.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::routing::get;
use rpc_core::{rpc_method, Ext, PeerAddr, Router};
use rpc_hyper::RpcService;
use tower_http::cors::CorsLayer;

/// Echoes its text back.
#[rpc_method]
fn echo(text: String) -> String {
    text
}

/// Where the call came from: axum's `ConnectInfo` when axum serves the app with connect info,
/// the peer `rpc_hyper::serve_service` saw when it serves the app.
#[rpc_method]
fn whence(
    axum_peer: Option<Ext<'_, ConnectInfo<SocketAddr>>>,
    peer: Option<Ext<'_, PeerAddr>>,
) -> Option<String> {
    axum_peer
        .map(|info| info.0.to_string())
        .or_else(|| peer.map(|peer| peer.to_string()))
}

/// The axum app: `GET /` and `GET /health` are axum's, `POST /rpc` is ours.
///
/// # Panics
/// Never: the one method name is registered once.
pub fn app() -> axum::Router {
    let mut router = Router::new();
    router
        .register(echo::method())
        .and_then(|router| router.register(whence::method()))
        .expect("distinct names");
    // Mounted, the endpoint answers on whatever path axum routes to it.
    let rpc = RpcService::new(router);
    axum::Router::new()
        .route("/", get(|| async { "Hello from axum" }))
        .route("/health", get(|| async { "ok" }))
        // CORS on the RPC route only; it is off unless added like this.
        .route_service(
            "/rpc",
            tower::ServiceBuilder::new()
                .layer(CorsLayer::permissive())
                .service(rpc.clone()),
        )
        // The same endpoint nested under a prefix: axum strips it, the endpoint takes the rest.
        .nest_service("/v1", rpc)
}
