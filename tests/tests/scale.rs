//! The calculator, scaled: two of them on two ports with `--redis`, and a watcher subscribed
//! on one sees the results computed on the other, as the README's "Going past one machine"
//! says.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rpc_tests::{start_binary, Redis, STEP};
use tokio_tungstenite::tungstenite::Message;

const CALCULATOR: &str = env!("CARGO_BIN_EXE_calculator");

#[tokio::test]
async fn a_watcher_on_one_calculator_sees_what_another_computes_through_redis() {
    let Some(redis) = Redis::start() else { return };
    let url = redis.url();
    let args = ["--addr", "127.0.0.1:0", "--redis", url.as_str()];
    let (mut one_process, one) = start_binary(CALCULATOR, &args, None).await;
    let (mut other_process, other) = start_binary(CALCULATOR, &args, None).await;

    let ws_url = format!("{}/rpc", one.replace("http://", "ws://"));
    let (mut watcher, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(&ws_url))
        .await
        .expect("handshake in time")
        .expect("a WebSocket");
    let subscribe = r#"{"jsonrpc":"2.0","method":"subscribe_results","id":1}"#;
    watcher.send(Message::text(subscribe)).await.unwrap();
    let answer = tokio::time::timeout(STEP, watcher.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        answer.to_text().unwrap().contains(r#""result":"0x"#),
        "{answer}"
    );

    // Calls on the other calculator, over plain HTTP, until the feeds have connected and one
    // result has come through; then every later one does, in order.
    let http = rpc_tests::client(false);
    let started = Instant::now();
    let mut a = 0;
    let first = loop {
        a += 1;
        call(&http, &other, "add", a, 3).await;
        match tokio::time::timeout(Duration::from_millis(200), watcher.next()).await {
            Ok(Some(Ok(note))) => break note,
            _ => assert!(started.elapsed() < STEP, "no result came through Redis"),
        }
    };
    let first: serde_json::Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(first["method"], "results");
    assert_eq!(first["params"]["result"]["method"], "add");
    let seen_a = first["params"]["result"]["a"].as_i64().unwrap();
    assert!(seen_a <= a);
    call(&http, &other, "multiply", 6, 7).await;
    call(&http, &other, "divide", 1, 0).await; // an error: no result to tell
    call(&http, &other, "subtract", 9, 4).await;
    let mut later = Vec::new();
    while later.len() < 2 {
        let note = tokio::time::timeout(STEP, watcher.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let note: serde_json::Value = serde_json::from_str(note.to_text().unwrap()).unwrap();
        let result = &note["params"]["result"];
        // Retries of the first add that Redis carried after all come before.
        if result["method"] != "add" {
            later.push((result["method"].clone(), result["result"].clone()));
        }
    }
    assert_eq!(
        later,
        [
            (serde_json::json!("multiply"), serde_json::json!(42)),
            (serde_json::json!("subtract"), serde_json::json!(5)),
        ]
    );
    for process in [&mut one_process, &mut other_process] {
        process.kill().await.expect("stops");
    }
    drop(redis);
}

type Http = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<bytes::Bytes>,
>;

/// Calls `method(a, b)` on the calculator at `base` over HTTP.
async fn call(http: &Http, base: &str, method: &str, a: i64, b: i64) {
    let body = serde_json::json!({"jsonrpc": "2.0", "method": method, "params": [a, b], "id": 1});
    let url = format!("{base}/rpc");
    let (status, _) = rpc_tests::send(http, "POST", &url, &body.to_string()).await;
    assert_eq!(status, 200);
}
