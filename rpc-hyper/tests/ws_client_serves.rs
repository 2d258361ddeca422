//! The WebSocket client serves the server as a server serves its clients, on the same
//! connection engine: against a server scripted frame by frame, its router answers a batch
//! of the server's requests, takes the server's notifications in the order they came, is
//! cancelled in the LSP style, calls the server back through its peer handle with ids that
//! never collide with the client's own calls, and keeps reading for the answers its methods
//! await with every call's place taken; and its own calls are not bounded by the limit on
//! what it takes.
#![cfg(all(feature = "ws", feature = "client"))]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rpc_core::{rpc_method, Dialect, ErrorObject, Peer, Router, State};
use rpc_hyper::Client;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// How long one step may take.
const STEP: Duration = Duration::from_secs(10);

type Log = Arc<Mutex<Vec<i64>>>;

/// Doubles `n`.
#[rpc_method]
async fn double(n: i64) -> i64 {
    tokio::task::yield_now().await;
    n * 2
}

/// Notes `n` after `delay_ms`.
#[rpc_method]
async fn note(state: State<'_, Log>, n: i64, delay_ms: u64) {
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    state.lock().unwrap().push(n);
}

/// What was noted.
#[rpc_method]
fn noted(state: State<'_, Log>) -> Vec<i64> {
    state.lock().unwrap().clone()
}

/// Waits long.
#[rpc_method]
async fn wait() -> bool {
    tokio::time::sleep(Duration::from_secs(60)).await;
    true
}

/// Asks the server to triple `n`.
#[rpc_method]
async fn ask_back(peer: Peer, n: i64) -> Result<i64, ErrorObject> {
    Ok(peer.request("triple", [n]).await?)
}

/// A client with the methods above, and the server's end of its connection.
async fn connected() -> (Client, WebSocketStream<TcpStream>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut router = Router::with_state(Log::default());
    for method in [
        double::method(),
        note::method(),
        noted::method(),
        wait::method(),
        ask_back::method(),
    ] {
        router.register(method).unwrap();
    }
    let client = Client::builder(&format!("ws://{}/", listener.local_addr().unwrap()))
        .router(router)
        .dialect(Dialect::Lsp)
        .timeout(STEP)
        .build()
        .unwrap();
    let (stream, _) = tokio::time::timeout(STEP, listener.accept())
        .await
        .expect("the client connects in time")
        .unwrap();
    let ws = tokio_tungstenite::accept_async(stream).await.unwrap();
    (client, ws)
}

async fn send(ws: &mut WebSocketStream<TcpStream>, frame: Value) {
    ws.send(Message::text(frame.to_string())).await.unwrap();
}

/// The next frame from the client, as JSON.
async fn next(ws: &mut WebSocketStream<TcpStream>) -> Value {
    loop {
        let message = tokio::time::timeout(STEP, ws.next())
            .await
            .expect("a frame in time")
            .expect("the connection is open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

fn request(id: Value, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

#[tokio::test]
async fn a_batch_of_the_servers_requests_gets_one_array_of_answers() {
    let (_client, mut ws) = connected().await;
    send(
        &mut ws,
        json!([
            request(json!("a"), "double", json!([1])),
            {"jsonrpc": "2.0", "method": "note", "params": [9, 0]},
            request(json!("b"), "double", json!([2])),
            request(json!("c"), "missing", json!([])),
        ]),
    )
    .await;
    let answers = next(&mut ws).await;
    let answers = answers.as_array().expect("an array");
    assert_eq!(answers.len(), 3, "{answers:?}");
    let by_id = |id: &str| answers.iter().find(|a| a["id"] == id).unwrap().clone();
    assert_eq!(by_id("a")["result"], 2);
    assert_eq!(by_id("b")["result"], 4);
    assert_eq!(by_id("c")["error"]["code"], -32601);
}

#[tokio::test]
async fn the_servers_notifications_are_taken_in_the_order_they_came() {
    let (_client, mut ws) = connected().await;
    for (n, delay) in [(0, 80), (1, 0), (2, 30)] {
        send(
            &mut ws,
            json!({"jsonrpc": "2.0", "method": "note", "params": [n, delay]}),
        )
        .await;
    }
    send(&mut ws, request(json!(1), "noted", json!([]))).await;
    let answer = next(&mut ws).await;
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["result"], json!([0, 1, 2]));
}

#[tokio::test]
async fn the_server_cancels_what_it_asked_in_the_lsp_style() {
    let (_client, mut ws) = connected().await;
    send(&mut ws, request(json!(7), "wait", json!([]))).await;
    send(
        &mut ws,
        json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 7}}),
    )
    .await;
    let answer = next(&mut ws).await;
    assert_eq!(answer["id"], 7);
    assert_eq!(answer["error"]["code"], -32800, "{answer}");
}

#[tokio::test]
async fn a_method_calls_the_server_back_with_ids_apart_from_the_clients_calls() {
    let (client, mut ws) = connected().await;
    // The client's own call, left unanswered for now.
    let call = tokio::spawn(async move { client.request::<String>("ping", ()).await });
    let ping = next(&mut ws).await;
    assert_eq!(ping["method"], "ping");
    // The server asks the client, whose method asks the server back.
    send(&mut ws, request(json!(1), "ask_back", json!([5]))).await;
    let triple = next(&mut ws).await;
    assert_eq!(triple["method"], "triple");
    assert_ne!(triple["id"], ping["id"], "one id space for one direction");
    // Answered in the other order than asked: each answer reaches its own request.
    let answer = json!({"jsonrpc": "2.0", "id": triple["id"], "result": 15});
    send(&mut ws, answer).await;
    let asked = next(&mut ws).await;
    assert_eq!(asked, json!({"jsonrpc": "2.0", "id": 1, "result": 15}));
    send(
        &mut ws,
        json!({"jsonrpc": "2.0", "id": ping["id"], "result": "pong"}),
    )
    .await;
    let pong = tokio::time::timeout(STEP, call).await.unwrap().unwrap();
    assert_eq!(pong.unwrap(), "pong");
}

#[tokio::test]
async fn a_hundred_calls_back_past_the_call_bound_all_get_their_answers() {
    let (_client, mut ws) = connected().await;
    // More than the 64 places: each awaits the server, which answers only what it is asked.
    for n in 0..100 {
        send(&mut ws, request(json!(n), "ask_back", json!([n]))).await;
    }
    let mut answered = Vec::new();
    while answered.len() < 100 {
        let frame = next(&mut ws).await;
        if frame["method"] == "triple" {
            let n = frame["params"][0].as_i64().unwrap();
            send(
                &mut ws,
                json!({"jsonrpc": "2.0", "id": frame["id"], "result": 3 * n}),
            )
            .await;
        } else {
            assert_eq!(
                frame["result"],
                3 * frame["id"].as_i64().unwrap(),
                "{frame}"
            );
            answered.push(frame["id"].as_i64().unwrap());
        }
    }
    answered.sort_unstable();
    assert_eq!(answered, (0..100).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_call_larger_than_the_answers_limit_still_goes_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = Client::builder(&format!("ws://{}/", listener.local_addr().unwrap()))
        .max_response_size(1024)
        .timeout(STEP)
        .build()
        .unwrap();
    let (stream, _) = tokio::time::timeout(STEP, listener.accept())
        .await
        .expect("the client connects in time")
        .unwrap();
    let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
    let long = "x".repeat(8 * 1024);
    let call = tokio::spawn(async move { client.request::<usize>("len", [long]).await });
    let request = next(&mut ws).await;
    assert_eq!(request["params"][0].as_str().map(str::len), Some(8 * 1024));
    let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": 8192});
    send(&mut ws, answer).await;
    let len = tokio::time::timeout(STEP, call).await.unwrap().unwrap();
    assert_eq!(len.expect("answered"), 8192);
}
