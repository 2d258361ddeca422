//! The endpoint mounted in axum: axum's routes and ours side by side, layers applied.

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;

async fn send(request: Request<Full<Bytes>>) -> (u16, http::HeaderMap, String) {
    let response = rpc_examples::mounted::app().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn axum_routes_and_the_rpc_endpoint_live_side_by_side() {
    let get = |path: &str| Request::get(path).body(Full::default()).unwrap();
    assert_eq!(send(get("/")).await.2, "Hello from axum");
    assert_eq!(send(get("/health")).await.2, "ok");
    assert_eq!(send(get("/nowhere")).await.0, 404);

    let call = Request::post("/rpc")
        .header("content-type", "application/json")
        .header("origin", "https://example.com")
        .body(Full::new(Bytes::from_static(
            br#"{"jsonrpc":"2.0","method":"echo","params":["hi"],"id":1}"#,
        )))
        .unwrap();
    let (status, headers, body) = send(call).await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"jsonrpc":"2.0","result":"hi","id":1}"#);
    assert_eq!(
        headers["access-control-allow-origin"], "*",
        "the CORS layer ran"
    );
    assert_eq!(send(get("/rpc")).await.0, 405);
}
