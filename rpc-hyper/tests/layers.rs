//! Call layers and composed routers over real HTTP, on HTTP/1.1 and h2c: a layer runs once
//! per call in single calls, batches and notifications; a refusal answers its call alone;
//! nested names answer.

mod common;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use rpc_core::{rpc_method, Call, CallLayer, ErrorObject, Methods, Outcome, Router};
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

/// Counts the calls it sees begin and end, and refuses `math.refused` (an alias of
/// `math.add`): the point is where a refusal lands.
#[derive(Clone, Default)]
struct Counting {
    before: Arc<AtomicUsize>,
    after: Arc<AtomicUsize>,
}

impl CallLayer for Counting {
    fn before(&self, call: &Call<'_>) -> Result<(), ErrorObject> {
        self.before.fetch_add(1, Ordering::SeqCst);
        assert!(
            call.context().peer().is_some(),
            "the layer sees the context"
        );
        if call.method() == "math.refused" {
            return Err(ErrorObject::new(4003, "Forbidden"));
        }
        Ok(())
    }

    fn after(&self, _: &Call<'_>, _: Outcome<'_>) {
        self.after.fetch_add(1, Ordering::SeqCst);
    }
}

async fn server(layer: Counting) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let mut math = Methods::new();
    math.register(add::method())
        .unwrap()
        .register(add_later::method())
        .unwrap()
        .alias("refused", "add")
        .unwrap();
    let mut router = Router::new();
    router.nest("math.", math).unwrap().layer(layer);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let service = RpcService::new(router);
    let task = tokio::spawn(rpc_hyper::serve(listener, service).into_future());
    (url, task)
}

#[tokio::test]
async fn a_layer_runs_once_per_call_and_refuses_per_call_over_each_protocol() {
    let layer = Counting::default();
    let (url, task) = server(layer.clone()).await;
    for client in each_protocol() {
        let start = layer.before.load(Ordering::SeqCst);
        let reply = post(
            &client,
            &url,
            r#"{"jsonrpc":"2.0","method":"math.add","params":[1,2],"id":1}"#,
        )
        .await;
        assert_eq!(reply.json(), json!({"jsonrpc":"2.0","result":3,"id":1}));
        let reply = post(
            &client,
            &url,
            r#"{"jsonrpc":"2.0","method":"math.add_later","params":[1,2]}"#,
        )
        .await;
        assert_eq!(reply.status, 204, "a notification is run, not answered");
        let batch = r#"[
            {"jsonrpc":"2.0","method":"math.add","params":[1,1],"id":"a"},
            {"jsonrpc":"2.0","method":"math.refused","params":[1,1],"id":"b"},
            {"jsonrpc":"2.0","method":"math.add_later","params":[2,2],"id":"c"},
            {"jsonrpc":"2.0","method":"math.refused","params":[1,1]},
            {"jsonrpc":"2.0","method":"add","params":[1,1],"id":"d"}
        ]"#;
        let answers: Value = post(&client, &url, batch).await.json();
        assert_eq!(
            answers,
            json!([
                {"jsonrpc":"2.0","result":2,"id":"a"},
                {"jsonrpc":"2.0","error":{"code":4003,"message":"Forbidden"},"id":"b"},
                {"jsonrpc":"2.0","result":4,"id":"c"},
                {"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"d"},
            ])
        );
        // 1 single call, 1 notification, 5 calls in the batch: 7 calls, each seen once.
        assert_eq!(layer.before.load(Ordering::SeqCst) - start, 7);
    }
    // Refused calls end at the layer that refused them: no `after` of its own.
    let refused = 2 * each_protocol().len();
    assert_eq!(
        layer.after.load(Ordering::SeqCst),
        layer.before.load(Ordering::SeqCst) - refused
    );
    task.abort();
}
