//! Async call layers over every transport: HTTP/1.1 and h2c, WebSocket, the stream transport.
//! The layer awaits (a store that answers later) and runs once per call, in single calls,
//! batches and notifications; a refusal answers its call alone; a layer that never completes
//! is ended by the request timeout; over a WebSocket, a subscription under the layer gives its
//! id before its first item.

mod common;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rpc_core::{
    rpc_method, rpc_subscription, Answer, AsyncCallLayer, BoxFuture, Call, ErrorObject, Next,
    Router, Sink,
};
use rpc_hyper::RpcService;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// Adds.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Adds later.
#[rpc_method]
async fn add_later(a: i64, b: i64) -> i64 {
    tokio::task::yield_now().await;
    a + b
}

/// Sends 1, 2, 3, a little apart.
#[rpc_subscription(notification = "tick")]
async fn ticks(sink: Sink<u64>) {
    for n in 1..=3 {
        if sink.send(n).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sends 1: subscribed to late, under the layer.
#[rpc_subscription(notification = "late")]
async fn later(sink: Sink<u64>) {
    let _ = sink.send(1).await;
}

/// Looks each call up in a "store" that answers after a sleep; refuses `secret` and
/// `subscribe_secret`; never completes for `hang`; holds `subscribe_later` for 300 ms.
/// Counts the calls it saw.
#[derive(Clone, Default)]
struct Gate {
    seen: Arc<AtomicUsize>,
}

impl AsyncCallLayer for Gate {
    fn call<'a>(&'a self, call: Call<'a>, next: Next<'a>) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            self.seen.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(1)).await;
            match call.method() {
                "secret" | "subscribe_secret" => ErrorObject::new(4003, "Forbidden").into(),
                "hang" => std::future::pending().await,
                "subscribe_later" => {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    next.run(call).await
                }
                _ => next.run(call).await,
            }
        })
    }
}

fn router(gate: &Gate) -> Router {
    let mut router = Router::new();
    router
        .register(add::method())
        .unwrap()
        .register(add_later::method())
        .unwrap()
        .register(ticks::method())
        .unwrap()
        .register(later::method())
        .unwrap();
    router.async_layer(gate.clone());
    router
}

const BATCH: &str = r#"[
    {"jsonrpc":"2.0","method":"add","params":[1,1],"id":"a"},
    {"jsonrpc":"2.0","method":"secret","id":"b"},
    {"jsonrpc":"2.0","method":"add_later","params":[2,2],"id":"c"},
    {"jsonrpc":"2.0","method":"secret"},
    {"jsonrpc":"2.0","method":"add","params":[1,1]}
]"#;

fn batch_answers() -> Value {
    json!([
        {"jsonrpc":"2.0","result":2,"id":"a"},
        {"jsonrpc":"2.0","error":{"code":4003,"message":"Forbidden"},"id":"b"},
        {"jsonrpc":"2.0","result":4,"id":"c"},
    ])
}

#[tokio::test]
async fn over_http_and_h2c_a_layer_runs_once_per_call_and_a_hung_one_times_out() {
    let gate = Gate::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let service = RpcService::new(router(&gate)).request_timeout(Duration::from_millis(300));
    let task = tokio::spawn(rpc_hyper::serve(listener, service).into_future());
    for client in each_protocol() {
        let start = gate.seen.load(Ordering::SeqCst);
        let call = r#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}"#;
        let reply = post(&client, &url, call).await;
        assert_eq!(reply.json(), json!({"jsonrpc":"2.0","result":3,"id":1}));
        let note = r#"{"jsonrpc":"2.0","method":"add_later","params":[1,2]}"#;
        assert_eq!(post(&client, &url, note).await.status, 204);
        assert_eq!(post(&client, &url, BATCH).await.json(), batch_answers());
        // 1 single call, 1 notification, 5 calls in the batch: each seen once.
        assert_eq!(gate.seen.load(Ordering::SeqCst) - start, 7);

        let hang = r#"{"jsonrpc":"2.0","method":"hang","id":2}"#;
        let reply = post(&client, &url, hang).await.json();
        assert_eq!(reply["error"]["message"], "Request timed out", "{reply}");
        assert_eq!(reply["id"], 2);
    }
    task.abort();
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn over_a_websocket_calls_pass_the_layer_and_a_subscription_answers_its_id_first() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let gate = Gate::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task =
        tokio::spawn(rpc_hyper::serve(listener, RpcService::new(router(&gate))).into_future());
    let (mut ws, _) = tokio::time::timeout(
        STEP,
        tokio_tungstenite::connect_async(format!("ws://{addr}/")),
    )
    .await
    .unwrap()
    .unwrap();
    use common::ws::next;

    ws.send(Message::text(BATCH)).await.unwrap();
    assert_eq!(next(&mut ws).await, batch_answers());
    assert_eq!(gate.seen.load(Ordering::SeqCst), 5);

    let refused = r#"{"jsonrpc":"2.0","method":"subscribe_secret","id":1}"#;
    ws.send(Message::text(refused)).await.unwrap();
    assert_eq!(next(&mut ws).await["error"]["code"], 4003);

    let subscribe = r#"{"jsonrpc":"2.0","method":"subscribe_ticks","id":2}"#;
    ws.send(Message::text(subscribe)).await.unwrap();
    let answer = next(&mut ws).await;
    assert_eq!(
        answer["id"], 2,
        "the answer comes before any item: {answer}"
    );
    let id = answer["result"].as_str().unwrap().to_owned();
    for n in 1..=3 {
        let item = next(&mut ws).await;
        assert_eq!(item["method"], "tick");
        assert_eq!(item["params"], json!({"subscription": id, "result": n}));
    }
    assert_eq!(gate.seen.load(Ordering::SeqCst), 7);
    ws.close(None).await.ok();
    while let Ok(Some(_)) = tokio::time::timeout(STEP, ws.next()).await {}
    task.abort();
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn a_subscription_that_would_start_during_the_drain_is_told_the_server_is_shutting_down() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let gate = Gate::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server =
        rpc_hyper::serve(listener, RpcService::new(router(&gate))).with_graceful_shutdown(async {
            stopped.await.ok();
        });
    let task = tokio::spawn(server.into_future());
    let (mut ws, _) = tokio::time::timeout(
        STEP,
        tokio_tungstenite::connect_async(format!("ws://{addr}/")),
    )
    .await
    .unwrap()
    .unwrap();
    // The layer holds the call; the drain begins meanwhile.
    let subscribe = r#"{"jsonrpc":"2.0","method":"subscribe_later","id":1}"#;
    ws.send(Message::text(subscribe)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.send(()).unwrap();
    let answer = common::ws::next(&mut ws).await;
    assert_eq!(
        answer,
        json!({"jsonrpc":"2.0","error":{"code":-32012,"message":"The server is shutting down"},"id":1})
    );
    tokio::time::timeout(STEP, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[cfg(feature = "stream")]
#[tokio::test]
async fn over_a_stream_calls_pass_the_layer_and_a_hung_one_times_out() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let gate = Gate::default();
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(theirs);
    let server = rpc_hyper::stream::serve(read, write, Arc::new(router(&gate)))
        .request_timeout(Duration::from_millis(300));
    let server = tokio::spawn(server.into_future());
    let (read, mut write) = tokio::io::split(ours);
    let mut lines = BufReader::new(read).lines();
    let mut line = async move || -> Value {
        let line = tokio::time::timeout(STEP, lines.next_line()).await.unwrap();
        serde_json::from_str(&line.unwrap().unwrap()).unwrap()
    };

    let mut body = BATCH.replace('\n', "");
    body.push('\n');
    body.push_str("{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[2,3]}\n");
    body.push_str("{\"jsonrpc\":\"2.0\",\"method\":\"hang\",\"id\":9}\n");
    body.push_str("{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[2,3],\"id\":3}\n");
    write.write_all(body.as_bytes()).await.unwrap();
    // The batch and the last call answer; the hung call answers once its time is up.
    let mut answers = [line().await, line().await, line().await];
    answers.sort_by_key(|answer| (answer.is_object(), answer["id"] == 9));
    assert_eq!(answers[0], batch_answers());
    assert_eq!(answers[1], json!({"jsonrpc":"2.0","result":5,"id":3}));
    assert_eq!(answers[2]["error"]["message"], "Request timed out");
    assert_eq!(gate.seen.load(Ordering::SeqCst), 5 + 3);
    write.shutdown().await.unwrap();
    tokio::time::timeout(STEP, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[cfg(feature = "stream")]
#[tokio::test]
async fn a_call_held_in_a_layer_is_cancelled_and_the_cancel_passes_no_layer() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let gate = Gate::default();
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(theirs);
    let server = rpc_hyper::stream::serve(read, write, Arc::new(router(&gate)))
        .dialect(rpc_core::Dialect::Lsp);
    let server = tokio::spawn(server.into_future());
    let (read, mut write) = tokio::io::split(ours);
    let mut lines = BufReader::new(read).lines();
    write
        .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"hang\",\"id\":5}\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    write
        .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":5}}\n")
        .await
        .unwrap();
    let line = tokio::time::timeout(STEP, lines.next_line()).await.unwrap();
    let answer: Value = serde_json::from_str(&line.unwrap().unwrap()).unwrap();
    assert_eq!(answer["id"], 5);
    assert_eq!(answer["error"]["code"], -32800, "{answer}");
    assert_eq!(
        gate.seen.load(Ordering::SeqCst),
        1,
        "the cancel went through no layer"
    );
    write.shutdown().await.unwrap();
    tokio::time::timeout(STEP, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
