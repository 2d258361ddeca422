//! Bearer-token authentication over real HTTP: no method runs without the token.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rpc_core::{rpc_method, Router, State};
use rpc_examples::auth::BearerAuthLayer;
use rpc_hyper::RpcService;
use tower::Layer;

/// Counts its calls.
#[rpc_method]
fn count(calls: State<'_, AtomicUsize>) -> usize {
    calls.fetch_add(1, Ordering::SeqCst) + 1
}

#[tokio::test]
async fn only_requests_with_the_token_reach_a_method() {
    let mut router = Router::with_state(AtomicUsize::new(0));
    router.register(count::method()).unwrap();
    let endpoint = RpcService::new(router);
    let calls = Arc::clone(endpoint.router());
    let service = BearerAuthLayer::new("s3cret-token").layer(endpoint);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let server = tokio::spawn(rpc_hyper::serve_service(listener, service).into_future());

    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let send = |authorization: Option<&'static str>| {
        let mut request = http::Request::post(&url).header("content-type", "application/json");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let request = request
            .body(Full::new(Bytes::from_static(
                br#"{"jsonrpc":"2.0","method":"count","id":1}"#,
            )))
            .unwrap();
        let client = client.clone();
        async move {
            let response =
                tokio::time::timeout(std::time::Duration::from_secs(10), client.request(request))
                    .await
                    .unwrap()
                    .unwrap();
            let status = response.status().as_u16();
            let challenge = response.headers().get("www-authenticate").cloned();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, challenge, String::from_utf8(body.to_vec()).unwrap())
        }
    };

    for authorization in [
        None,
        Some("Bearer wrong-token!"),
        Some("Bearer s3cret-toke"),
        Some("Basic s3cret-token"),
        Some("Bearer "),
    ] {
        let (status, challenge, _) = send(authorization).await;
        assert_eq!(status, 401, "{authorization:?}");
        assert_eq!(
            challenge.as_ref().map(|v| v.to_str().unwrap()),
            Some("Bearer")
        );
    }
    assert_eq!(
        calls.state().load(Ordering::SeqCst),
        0,
        "no method ran without the token"
    );

    let (status, _, body) = send(Some("Bearer s3cret-token")).await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"jsonrpc":"2.0","result":1,"id":1}"#)
    );
    assert_eq!(calls.state().load(Ordering::SeqCst), 1);
    server.abort();
}

use std::future::IntoFuture;
