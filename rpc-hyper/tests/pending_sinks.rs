//! Subscriptions that decide before they start, over a WebSocket and a byte stream: the
//! method awaits a check, then the call answers the id before the first item, or the error it
//! refused with; a call on the same connection meanwhile is answered at once.
#![cfg(all(feature = "ws", feature = "stream"))]

mod common;

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use common::STEP;
use futures_util::SinkExt;
use rpc_core::{rpc_method, rpc_subscription, ErrorObject, PendingSink, Router};
use rpc_hyper::RpcService;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// Sends 1, 2, 3 to the account's owner, after a check that takes a while.
#[rpc_subscription(notification = "tick")]
async fn watch(account: String, pending: PendingSink<u64>) {
    tokio::time::sleep(Duration::from_millis(100)).await;
    if account != "alice" {
        pending.refuse(ErrorObject::new(4003, "Forbidden"));
        return;
    }
    let Ok(sink) = pending.accept().await else {
        return;
    };
    for n in 1..=3 {
        if sink.send(n).await.is_err() {
            return;
        }
    }
}

/// Adds.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn router() -> Router {
    let mut router = Router::new();
    router
        .register(watch::method())
        .unwrap()
        .register(add::method())
        .unwrap();
    router
}

/// Checks what came, in order: the quick call's answer first, the refusal, then the
/// accepted call's answer and its three items.
fn check(messages: &[Value]) {
    assert_eq!(
        messages[0],
        json!({"jsonrpc":"2.0","result":3,"id":"quick"})
    );
    let mut rest = messages[1..].to_vec();
    let refusal = rest
        .iter()
        .position(|m| m["id"] == "bob")
        .expect("bob's answer");
    assert_eq!(rest.remove(refusal)["error"]["code"], 4003);
    assert_eq!(
        rest[0]["id"], "alice",
        "the answer before any item: {rest:?}"
    );
    let id = rest[0]["result"].as_str().unwrap();
    for (n, item) in rest[1..].iter().enumerate() {
        assert_eq!(
            *item,
            json!({"jsonrpc":"2.0","method":"tick","params":{"subscription":id,"result":n + 1}})
        );
    }
    assert_eq!(rest.len(), 4);
}

const CALLS: [&str; 3] = [
    r#"{"jsonrpc":"2.0","method":"subscribe_watch","params":["alice"],"id":"alice"}"#,
    r#"{"jsonrpc":"2.0","method":"subscribe_watch","params":["bob"],"id":"bob"}"#,
    r#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":"quick"}"#,
];

#[tokio::test]
async fn over_a_websocket() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(rpc_hyper::serve(listener, RpcService::new(router())).into_future());
    let (mut ws, _) = tokio::time::timeout(
        STEP,
        tokio_tungstenite::connect_async(format!("ws://{addr}/")),
    )
    .await
    .unwrap()
    .unwrap();
    for call in CALLS {
        ws.send(Message::text(call)).await.unwrap();
    }
    let mut messages = Vec::new();
    for _ in 0..6 {
        messages.push(common::ws::next(&mut ws).await);
    }
    check(&messages);
    task.abort();
}

#[tokio::test]
async fn over_a_byte_stream() {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(theirs);
    let server =
        tokio::spawn(rpc_hyper::stream::serve(read, write, Arc::new(router())).into_future());
    let (read, mut write) = tokio::io::split(ours);
    for call in CALLS {
        write
            .write_all(format!("{call}\n").as_bytes())
            .await
            .unwrap();
    }
    let mut lines = BufReader::new(read).lines();
    let mut messages = Vec::new();
    for _ in 0..6 {
        let line = tokio::time::timeout(STEP, lines.next_line()).await.unwrap();
        messages.push(serde_json::from_str(&line.unwrap().unwrap()).unwrap());
    }
    check(&messages);
    write.shutdown().await.unwrap();
    tokio::time::timeout(STEP, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
