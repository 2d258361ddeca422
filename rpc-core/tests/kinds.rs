//! Several subscription kinds under one subscribe name, each its own typed function: the call
//! names the kind first, the params after it are the kind's.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Waker};

use rpc_core::{rpc_subscription, Context, Note, Outbox, Router, Sink, Subscription};
use serde_json::{json, Value};

/// A block header, as far as these tests need one.
#[derive(serde::Serialize)]
struct Head {
    number: u64,
}

/// New heads.
#[rpc_subscription(
    name = "eth_subscribe",
    kind = "newHeads",
    unsubscribe = "eth_unsubscribe",
    notification = "eth_subscription"
)]
async fn new_heads(sink: Sink<Head>) {
    let _ = sink.send(Head { number: 1 }).await;
    sink.closed().await;
}

/// A log filter.
#[derive(serde::Deserialize)]
struct Filter {
    address: String,
}

/// Logs matching a filter.
#[rpc_subscription(
    name = "eth_subscribe",
    kind = "logs",
    unsubscribe = "eth_unsubscribe",
    notification = "eth_subscription"
)]
async fn logs(filter: Filter, sink: Sink<String>) {
    let _ = sink.send(format!("a log of {}", filter.address)).await;
    sink.closed().await;
}

/// Logs again: a second `logs` kind.
#[rpc_subscription(
    name = "eth_subscribe",
    kind = "logs",
    unsubscribe = "eth_unsubscribe",
    notification = "eth_subscription"
)]
async fn logs_again(sink: Sink<String>) {
    sink.closed().await;
}

/// A kind that names other notifications.
#[rpc_subscription(
    name = "eth_subscribe",
    kind = "odd",
    unsubscribe = "eth_unsubscribe",
    notification = "odd"
)]
async fn odd(sink: Sink<u8>) {
    sink.closed().await;
}

fn router() -> Router {
    let mut router = Router::new();
    router
        .register(new_heads::method())
        .unwrap()
        .register(logs::method())
        .unwrap();
    router
}

fn run<'r>(
    router: &'r Router,
    cx: &'r Context<'r>,
    body: Value,
    alive: &mut Vec<Pin<Box<Subscription<'r>>>>,
) -> (Value, Vec<Value>) {
    let body = serde_json::to_vec(&body).unwrap();
    let handled = router.handle_sync_push(&body, cx).unwrap();
    alive.extend(handled.subscriptions.into_iter().map(Box::pin));
    let mut task = TaskContext::from_waker(Waker::noop());
    alive.retain_mut(|s| s.as_mut().poll(&mut task).is_pending());
    let answer = serde_json::from_slice(&handled.response.unwrap()).unwrap();
    let mut notes: Vec<Note> = Vec::new();
    let _ = cx.outbox().unwrap().poll_take(&mut task, &mut notes);
    let notes = notes
        .iter()
        .map(|note| serde_json::from_slice(&note.parts().concat()).unwrap())
        .collect();
    (answer, notes)
}

#[test]
fn each_kind_runs_its_own_function_with_the_params_after_the_kind() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut alive = Vec::new();
    let call = json!({"jsonrpc":"2.0","method":"eth_subscribe","params":["newHeads"],"id":1});
    let (answer, notes) = run(&router, &cx, call, &mut alive);
    let heads = answer["result"].clone();
    assert_eq!(
        notes,
        [
            json!({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":heads,"result":{"number":1}}})
        ]
    );
    let call = json!({"jsonrpc":"2.0","method":"eth_subscribe","params":["logs", {"address": "0xab"}],"id":2});
    let (answer, notes) = run(&router, &cx, call, &mut alive);
    assert_eq!(notes[0]["params"]["subscription"], answer["result"]);
    assert_eq!(notes[0]["params"]["result"], "a log of 0xab");
    assert_eq!(outbox.subscriptions(), 2);

    // One unsubscribe method for every kind.
    let call = json!({"jsonrpc":"2.0","method":"eth_unsubscribe","params":[heads],"id":3});
    assert_eq!(run(&router, &cx, call, &mut alive).0["result"], true);
    assert_eq!(outbox.subscriptions(), 1);
}

#[test]
fn an_unknown_or_missing_kind_is_invalid_params_and_the_kind_s_own_params_are_checked() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut alive = Vec::new();
    let cases = [
        (
            json!(["pending"]),
            r#"no subscription kind "pending"; the kinds are ["newHeads", "logs"]"#,
        ),
        (
            json!([]),
            r#"the subscription's kind comes first: ["KIND", ...]"#,
        ),
        (
            json!({"kind": "logs"}),
            r#"the subscription's kind comes first: ["KIND", ...]"#,
        ),
        (json!([7]), "the subscription's kind is a string"),
        (json!(["logs"]), r#"missing parameter "filter""#),
        (
            json!(["logs", {"address": 5}]),
            r#"parameter "filter": invalid type: integer `5`, expected a string"#,
        ),
    ];
    for (params, data) in cases {
        let call = json!({"jsonrpc":"2.0","method":"eth_subscribe","params":params,"id":1});
        let (answer, _) = run(&router, &cx, call, &mut alive);
        assert_eq!(answer["error"]["code"], -32602, "{params}");
        assert_eq!(answer["error"]["data"], data, "{params}");
    }
    assert_eq!(outbox.subscriptions(), 0, "nothing was left open");
}

#[test]
fn a_kind_registered_twice_or_unlike_the_others_is_refused() {
    let mut router = router();
    let twice = router.register(logs_again::method()).unwrap_err();
    assert_eq!(twice.name(), "eth_subscribe");
    assert!(
        twice
            .to_string()
            .contains("that kind is registered already"),
        "{twice}"
    );
    assert!(router.register(odd::method()).is_err());
    // The name itself is taken by the kinds.
    let plain = rpc_core::Method::new_sync("eth_subscribe", |_: &(), _: rpc_core::Params<'_>| {
        Ok::<_, rpc_core::ErrorObject>(())
    });
    assert!(router.register(plain).unwrap_err().is_duplicate());
}

#[test]
fn worded_as_geth_words_it_a_kind_s_parameter_counts_the_kind() {
    let mut router = router();
    router.params_errors(rpc_core::geth::invalid_argument);
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut alive = Vec::new();
    let call =
        json!({"jsonrpc":"2.0","method":"eth_subscribe","params":["logs", {"address": 5}],"id":1});
    let (answer, _) = run(&router, &cx, call, &mut alive);
    assert_eq!(
        answer["error"]["message"],
        "invalid argument 1: invalid type: integer `5`, expected a string"
    );
}
