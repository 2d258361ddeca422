//! The answers a server standing in for an Ethereum node can give in go-ethereum's forms: a
//! subscribe call over plain HTTP, and unsubscribing an id that is not alive.

use rpc_core::{geth, rpc_subscription, Context, Outbox, Router, Sink, Subscription};
use serde_json::{json, Value};

/// Sends nothing until the client leaves, answering unknown ids as go-ethereum does.
#[rpc_subscription(
    name = "eth_subscribe",
    unsubscribe = "eth_unsubscribe",
    notification = "eth_subscription",
    unknown_id = "error"
)]
async fn heads(sink: Sink<u64>) {
    sink.closed().await;
}

/// The same, with this library's default answer to unknown ids.
#[rpc_subscription]
async fn idle(sink: Sink<u64>) {
    sink.closed().await;
}

fn router() -> Router {
    let mut router = Router::new();
    router
        .register(heads::method())
        .unwrap()
        .register(idle::method())
        .unwrap();
    router
}

/// Handles `body` as a transport that can push, keeping what it starts alive in `alive`.
fn push<'r>(
    router: &'r Router,
    cx: &'r Context<'r>,
    body: &str,
    alive: &mut Vec<Subscription<'r>>,
) -> Value {
    let handled = router.handle_sync_push(body.as_bytes(), cx).unwrap();
    alive.extend(handled.subscriptions);
    serde_json::from_slice(&handled.response.unwrap()).unwrap()
}

#[test]
fn over_plain_http_a_subscribe_call_can_answer_as_geth_does() {
    let mut router = router();
    let body = br#"{"jsonrpc":"2.0","method":"eth_subscribe","params":[],"id":1}"#;
    let default: Value =
        serde_json::from_slice(&router.handle_sync(body).unwrap().unwrap()).unwrap();
    assert_eq!(default["error"]["code"], -32009);

    router.cannot_push_error(geth::notifications_not_supported());
    let answer: Value =
        serde_json::from_slice(&router.handle_sync(body).unwrap().unwrap()).unwrap();
    assert_eq!(
        answer,
        json!({"jsonrpc":"2.0","error":{"code":-32601,"message":"notifications not supported"},"id":1})
    );
}

#[test]
fn unsubscribing_an_unknown_id_answers_geths_error_where_declared_and_ids_match_in_any_case() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut alive = Vec::new();
    let subscribe = r#"{"jsonrpc":"2.0","method":"eth_subscribe","id":1}"#;
    let id = push(&router, &cx, subscribe, &mut alive)["result"]
        .as_str()
        .unwrap()
        .to_owned();
    let shouted = format!("0X{}", id[2..].to_uppercase());
    let unsubscribe = |id: &str| {
        format!(r#"{{"jsonrpc":"2.0","method":"eth_unsubscribe","params":["{id}"],"id":2}}"#)
    };
    assert_eq!(
        push(&router, &cx, &unsubscribe(&shouted), &mut alive)["result"],
        true
    );
    assert_eq!(
        push(&router, &cx, &unsubscribe(&id), &mut alive),
        json!({"jsonrpc":"2.0","error":{"code":-32000,"message":"subscription not found"},"id":2})
    );
    assert_eq!(
        push(&router, &cx, &unsubscribe("nonsense"), &mut alive)["error"]["message"],
        "subscription not found"
    );
    // Declared on one subscription, the form is its unsubscribe method's alone.
    let body = r#"{"jsonrpc":"2.0","method":"unsubscribe_idle","params":["0x1"],"id":3}"#;
    assert_eq!(push(&router, &cx, body, &mut alive)["result"], false);
    let info = router.method_info("eth_subscribe").unwrap();
    assert!(info.subscription.as_ref().unwrap().unknown_id_errors);
}
