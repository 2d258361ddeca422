//! The client and a server's end notices: the subscription's stream ends with the reason the
//! server gave, instead of staying open for ever.
#![cfg(all(feature = "ws", feature = "client"))]

mod common;

use std::future::IntoFuture;

use common::STEP;
use rpc_core::{rpc_subscription, Router, Sink};
use rpc_hyper::{Client, RpcService};
use tokio::net::TcpListener;

/// Sends `n` items, then returns.
#[rpc_subscription(end_notice)]
async fn finite(n: u64, sink: Sink<u64>) {
    for i in 0..n {
        let _ = sink.send(i).await;
    }
}

/// Sends one item, then fails.
#[rpc_subscription(end_notice)]
async fn failing(sink: Sink<u64>) -> Result<(), String> {
    let _ = sink.send(7).await;
    Err("the source went away".to_owned())
}

/// Sends one `null` item, then returns.
#[rpc_subscription(end_notice)]
async fn nothing(sink: Sink<Option<u8>>) {
    let _ = sink.send(None).await;
}

#[tokio::test]
async fn a_subscription_the_server_ends_ends_the_stream_with_its_reason() {
    let mut router = Router::new();
    router
        .register(finite::method())
        .unwrap()
        .register(failing::method())
        .unwrap()
        .register(nothing::method())
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(rpc_hyper::serve(listener, RpcService::new(router)).into_future());
    let client = Client::builder(&format!("ws://{addr}/"))
        .timeout(STEP)
        .build()
        .unwrap();

    let mut finite = client.subscribe(finite::subscribe(2)).await.unwrap();
    assert_eq!(
        tokio::time::timeout(STEP, finite.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap(),
        0
    );
    assert_eq!(
        tokio::time::timeout(STEP, finite.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap(),
        1
    );
    assert!(
        tokio::time::timeout(STEP, finite.next())
            .await
            .unwrap()
            .is_none(),
        "completed: a clean end"
    );
    assert_eq!(finite.end_reason(), Some("completed"));

    let mut failing = client.subscribe(failing::subscribe()).await.unwrap();
    assert_eq!(
        tokio::time::timeout(STEP, failing.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap(),
        7
    );
    let err = tokio::time::timeout(STEP, failing.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(err.is_closed(), "{err}");
    assert!(
        err.to_string()
            .contains("the server ended the subscription: failed: the source went away"),
        "{err}"
    );
    assert!(tokio::time::timeout(STEP, failing.next())
        .await
        .unwrap()
        .is_none());
    assert_eq!(failing.end_reason(), Some("failed"));

    // A `null` item is an item, not an end.
    let mut nothing = client.subscribe(nothing::subscribe()).await.unwrap();
    let item = tokio::time::timeout(STEP, nothing.next()).await.unwrap();
    assert_eq!(item.unwrap().unwrap(), None);
    assert!(tokio::time::timeout(STEP, nothing.next())
        .await
        .unwrap()
        .is_none());
    assert_eq!(nothing.end_reason(), Some("completed"));
    task.abort();
}
