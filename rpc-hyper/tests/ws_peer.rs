//! Both ends are peers over a WebSocket: a server method asks the client, whose router
//! answers with its own methods; a client without one answers -32601; the server's requests
//! never pass for answers to the client's calls, even under the same ids. Over plain HTTP,
//! a method that calls back is answered -32011, over HTTP/1.1 and h2c alike; and the typed
//! stubs `#[rpc_method]` generates are called through a `Peer` as through a client.
#![cfg(all(feature = "ws", feature = "client"))]

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use rpc_core::{rpc_method, ErrorObject, Peer, Router, State};
use rpc_hyper::Client;
use serde_json::Value;
use tokio::sync::mpsc;

/// Asks the caller to double `n`.
#[rpc_method]
async fn ask(peer: Peer, n: i64) -> Result<i64, ErrorObject> {
    Ok(peer.request("double", [n]).await?)
}

/// Tells the caller `what`, and answers at once.
#[rpc_method]
async fn tell(peer: Peer, what: String) -> Result<bool, ErrorObject> {
    peer.notify("told", [what]).await?;
    Ok(true)
}

/// Doubles `n`, on the client's side.
#[rpc_method]
async fn double(n: i64) -> i64 {
    tokio::task::yield_now().await;
    n * 2
}

/// What the server told the client.
#[rpc_method]
fn told(state: State<'_, mpsc::UnboundedSender<Value>>, what: Value) {
    let _ = state.send(what);
}

/// Our server with `ask` and `tell`, and its WebSocket URL.
async fn server() -> String {
    let mut router = Router::new();
    router
        .register(ask::method())
        .and_then(|r| r.register(tell::method()))
        .expect("distinct names");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("ws://{}/", listener.local_addr().expect("an address"));
    tokio::spawn(rpc_hyper::serve(listener, router).into_future());
    url
}

#[tokio::test]
async fn the_clients_router_answers_the_servers_requests_and_takes_its_notifications() {
    let url = server().await;
    let (sender, mut told_us) = mpsc::unbounded_channel();
    let mut ours = Router::with_state(sender);
    ours.register(double::method())
        .and_then(|r| r.register(told::method()))
        .expect("distinct names");
    let client = Client::builder(&url)
        .router(Arc::new(ours))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    // The server's first request to us has id 1, as our first call does: neither is taken
    // for the other's answer.
    let asked: i64 = client.request("ask", [21]).await.expect("an answer");
    assert_eq!(asked, 42);
    let answers = futures_util::future::join_all((0..40).map(|n| {
        let client = client.clone();
        async move { client.request::<i64>("ask", [n]).await }
    }))
    .await;
    for (n, answer) in answers.into_iter().enumerate() {
        assert_eq!(answer.expect("an answer"), 2 * n as i64);
    }
    let done: bool = client.request("tell", ["news"]).await.expect("an answer");
    assert!(done);
    let what = tokio::time::timeout(Duration::from_secs(10), told_us.recv())
        .await
        .expect("in time");
    assert_eq!(what, Some(Value::from("news")));
}

#[tokio::test]
async fn a_client_without_a_router_answers_the_servers_requests_with_method_not_found() {
    let url = server().await;
    let client = Client::builder(&url)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let error = client
        .request::<i64>("ask", [21])
        .await
        .expect_err("nothing answers `double`");
    assert_eq!(error.rpc().expect("an error answer").code(), -32601);
    // Its notifications are dropped; the connection goes on.
    let done: bool = client.request("tell", ["news"]).await.expect("an answer");
    assert!(done);
}

/// Calls `double` on the caller by its typed stub, as a client would call it.
#[rpc_method]
async fn ask_typed(peer: Peer, n: i64) -> Result<i64, ErrorObject> {
    Ok(peer.call(double::call(n)).await?)
}

#[tokio::test]
async fn typed_stubs_go_through_a_peer_and_over_plain_http_a_call_back_is_32011() {
    let mut router = Router::new();
    router
        .register(ask_typed::method())
        .and_then(|r| r.register(ask::method()))
        .expect("distinct names");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(rpc_hyper::serve(listener, router).into_future());

    let mut ours = Router::new();
    ours.register(double::method()).expect("a name");
    let client = Client::builder(&format!("ws://{addr}/"))
        .router(Arc::new(ours))
        .build()
        .expect("a client");
    let asked: i64 = client.call(ask_typed::call(4)).await.expect("an answer");
    assert_eq!(asked, 8);

    let http = format!("http://{addr}/");
    let clients = [
        Client::builder(&http).build().expect("a client"),
        Client::builder(&http)
            .http2_prior_knowledge()
            .build()
            .expect("a client"),
    ];
    for client in clients {
        let error = client
            .call(ask::call(1))
            .await
            .expect_err("no way back over HTTP");
        let error = error.rpc().expect("an error answer");
        assert_eq!(error.code(), -32011);
        assert_eq!(error.message(), "Needs a connection");
    }
}
