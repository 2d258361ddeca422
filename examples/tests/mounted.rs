//! The endpoint mounted in axum: axum's routes and ours side by side, layers applied.

use std::net::SocketAddr;

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

fn call(path: &str, body: &'static str) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

#[tokio::test]
async fn mounting_by_route_or_nest_works_without_choosing_paths() {
    let echo = r#"{"jsonrpc":"2.0","method":"echo","params":["hi"],"id":1}"#;
    for path in ["/rpc", "/v1", "/v1/"] {
        let (status, _, body) = send(call(path, echo)).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body, r#"{"jsonrpc":"2.0","result":"hi","id":1}"#, "{path}");
    }
}

/// Serves the app on a loopback port with `serve`, calls `whence` once, and stops.
async fn whence_over(axum_serve: bool) -> (String, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = rpc_examples::mounted::app();
    let server = if axum_serve {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() })
    } else {
        tokio::spawn(async move { rpc_hyper::serve_service(listener, app).await.unwrap() })
    };
    // A raw connection, so that the client's own address is known.
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let local = stream.local_addr().unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let request = call(
        &format!("http://{addr}/rpc"),
        r#"{"jsonrpc":"2.0","method":"whence","id":1}"#,
    );
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        sender.send_request(request),
    )
    .await
    .unwrap()
    .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    server.abort();
    (String::from_utf8(body.to_vec()).unwrap(), local)
}

#[tokio::test]
async fn a_method_sees_the_peer_under_axum_serve_and_under_ours() {
    for axum_serve in [true, false] {
        let (body, local) = whence_over(axum_serve).await;
        assert_eq!(
            body,
            format!(r#"{{"jsonrpc":"2.0","result":"{local}","id":1}}"#),
            "axum::serve: {axum_serve}"
        );
    }
}

#[tokio::test]
async fn a_websocket_reaches_the_endpoint_mounted_in_axum_under_axum_serve() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = rpc_examples::mounted::app();
    // axum's own server: the endpoint takes the socket through hyper's upgrade.
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for path in ["/rpc", "/v1"] {
        let url = format!("ws://{addr}{path}");
        let (mut ws, _) = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            tokio_tungstenite::connect_async(url),
        )
        .await
        .unwrap()
        .unwrap();
        for n in 0..3 {
            let call =
                format!(r#"{{"jsonrpc":"2.0","method":"echo","params":["hi {n}"],"id":{n}}}"#);
            ws.send(Message::text(call)).await.unwrap();
            let answer = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert_eq!(
                answer.into_text().unwrap().as_str(),
                format!(r#"{{"jsonrpc":"2.0","result":"hi {n}","id":{n}}}"#),
                "{path}"
            );
        }
    }
    server.abort();
}
