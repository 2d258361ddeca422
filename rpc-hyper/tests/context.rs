//! The call context over real HTTP: headers, the peer's address, the connection, the HTTP
//! version and what a tower layer in front inserted reach a method, on HTTP/1.1 and h2c.

mod common;

use std::convert::Infallible;
use std::future::IntoFuture;

use common::*;
use http::{Request, Response};
use hyper::body::Incoming;
use rpc_hyper::{ResponseBody, RpcService};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const CONTEXT: &str = r#"{"jsonrpc":"2.0","method":"context","id":1}"#;

fn result(body: &str) -> Value {
    let answer: Value = serde_json::from_str(body).unwrap();
    answer["result"].clone()
}

#[tokio::test]
async fn a_method_sees_the_headers_and_the_version_over_each_protocol() {
    let server = TestServer::default().await;
    for client in each_protocol() {
        let reply = post_with(
            &client,
            &server.url("/"),
            &[("x-request-id", "req-42")],
            CONTEXT,
        )
        .await;
        let seen = result(&reply.body);
        assert_eq!(seen["request_id"], "req-42");
        assert_eq!(seen["version"], format!("{:?}", reply.version));
        assert!(
            seen["peer"].as_str().unwrap().starts_with("127.0.0.1:"),
            "{seen}"
        );
        assert!(seen["user"].is_null());
    }
}

#[tokio::test]
async fn the_peer_address_and_connection_are_those_of_the_tcp_connection() {
    let server = TestServer::default().await;
    let mut first = connect(server.addr).await;
    let mut second = connect(server.addr).await;
    let mut seen = Vec::new();
    for on_second in [false, false, true] {
        let stream = if on_second { &mut second } else { &mut first };
        write_all(stream, &raw_post(CONTEXT)).await;
        let (status, body) = read_response(stream).await.expect("an answer");
        assert_eq!(status, 200);
        seen.push(result(&body));
    }
    assert_eq!(seen[0]["peer"], first.local_addr().unwrap().to_string());
    assert_eq!(seen[2]["peer"], second.local_addr().unwrap().to_string());
    assert_eq!(
        seen[0]["connection"], seen[1]["connection"],
        "one connection"
    );
    assert_ne!(
        seen[0]["connection"], seen[2]["connection"],
        "two connections"
    );
}

#[tokio::test]
async fn every_call_of_a_batch_sees_the_same_context() {
    let server = TestServer::default().await;
    let batch = r#"[{"jsonrpc":"2.0","method":"context","id":1},{"jsonrpc":"2.0","method":"context","id":2}]"#;
    let mut stream = connect(server.addr).await;
    write_all(&mut stream, &raw_post(batch)).await;
    let (_, body) = read_response(&mut stream).await.expect("an answer");
    let answers: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answers[0]["result"], answers[1]["result"]);
    assert!(answers[0]["result"]["connection"].is_u64());
}

/// A tower layer's work, by hand: authenticates by a header and inserts the `User`.
#[derive(Clone)]
struct Authenticate(RpcService<Flags>);

impl tower_service::Service<Request<Incoming>> for Authenticate {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = <RpcService<Flags> as tower_service::Service<Request<Incoming>>>::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        tower_service::Service::<Request<Incoming>>::poll_ready(&mut self.0, cx)
    }

    fn call(&mut self, mut request: Request<Incoming>) -> Self::Future {
        let user = request
            .headers()
            .get("x-user")
            .and_then(|v| v.to_str().ok())
            .map(|name| User(name.to_owned()));
        if let Some(user) = user {
            request.extensions_mut().insert(user);
        }
        self.0.call(request)
    }
}

#[tokio::test]
async fn an_identity_a_layer_inserted_reaches_the_method_and_a_missing_one_leaks_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = Authenticate(RpcService::new(router()));
    let server = tokio::spawn(rpc_hyper::serve_service(listener, service).into_future());
    let url = format!("http://{addr}/");
    let whoami = r#"{"jsonrpc":"2.0","method":"whoami","id":1}"#;
    for client in each_protocol() {
        let reply = post_with(&client, &url, &[("x-user", "ada")], whoami).await;
        assert_eq!(reply.body, r#"{"jsonrpc":"2.0","result":"ada","id":1}"#);

        // No user: the server's fault, and the client learns nothing about types.
        let reply = post(&client, &url, whoami).await;
        assert_eq!(
            reply.json(),
            json!({"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1})
        );
        assert!(!reply.body.contains("User"), "{}", reply.body);
    }
    server.abort();
}
