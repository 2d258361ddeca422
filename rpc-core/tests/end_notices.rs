//! End notices: a subscription that declares one tells its client when the server ends it,
//! and why; one the client ends, or one that declares none, ends silently.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Waker};

use rpc_core::{rpc_subscription, Context, Note, Outbox, Router, Sink, Subscription};
use serde_json::{json, Value};

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
    let _ = sink.send(1).await;
    Err("the source went away".to_owned())
}

/// Panics after one item.
#[rpc_subscription(end_notice)]
async fn boom(sink: Sink<u64>) {
    let _ = sink.send(1).await;
    panic!("boom");
}

/// Sends nothing until the client leaves.
#[rpc_subscription(end_notice)]
async fn idle(sink: Sink<u64>) {
    sink.closed().await;
}

/// Sends `n` items, with no end notice declared.
#[rpc_subscription]
async fn silent(n: u64, sink: Sink<u64>) {
    for i in 0..n {
        let _ = sink.send(i).await;
    }
}

fn router() -> Router {
    let mut router = Router::new();
    router
        .register(finite::method())
        .unwrap()
        .register(failing::method())
        .unwrap()
        .register(boom::method())
        .unwrap()
        .register(idle::method())
        .unwrap()
        .register(silent::method())
        .unwrap();
    router
}

/// Calls `body`, drives what it started as far as it goes, and gives the answer and the
/// notifications written, as JSON.
fn run<'r>(
    router: &'r Router,
    cx: &'r Context<'r>,
    body: &str,
    alive: &mut Vec<Pin<Box<Subscription<'r>>>>,
) -> (Value, Vec<Value>) {
    let handled = router.handle_sync_push(body.as_bytes(), cx).unwrap();
    alive.extend(handled.subscriptions.into_iter().map(Box::pin));
    let mut task = TaskContext::from_waker(Waker::noop());
    alive.retain_mut(|s| s.as_mut().poll(&mut task).is_pending());
    let answer = serde_json::from_slice(&handled.response.unwrap()).unwrap();
    (answer, take(cx.outbox().unwrap()))
}

fn take(outbox: &Outbox) -> Vec<Value> {
    let mut notes: Vec<Note> = Vec::new();
    let _ = outbox.poll_take(&mut TaskContext::from_waker(Waker::noop()), &mut notes);
    notes
        .iter()
        .map(|note| serde_json::from_slice(&note.parts().concat()).unwrap())
        .collect()
}

fn end(id: &Value, end: Value) -> Value {
    json!({"jsonrpc":"2.0","method":"finite","params":{"subscription":id,"end":end}})
}

#[test]
fn the_server_ending_a_subscription_says_why_after_its_last_item() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut alive = Vec::new();
    let body = r#"{"jsonrpc":"2.0","method":"subscribe_finite","params":[2],"id":1}"#;
    let (answer, notes) = run(&router, &cx, body, &mut alive);
    let id = &answer["result"];
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert_eq!(notes[1]["params"]["result"], 1);
    assert_eq!(notes[2], end(id, json!({"reason": "completed"})));

    let body = r#"{"jsonrpc":"2.0","method":"subscribe_failing","id":2}"#;
    let (answer, notes) = run(&router, &cx, body, &mut alive);
    assert_eq!(
        notes[1]["params"],
        json!({"subscription": answer["result"], "end": {"reason": "failed", "message": "the source went away"}})
    );
    let body = r#"{"jsonrpc":"2.0","method":"subscribe_boom","id":3}"#;
    let (answer, notes) = run(&router, &cx, body, &mut alive);
    assert_eq!(
        notes[1]["params"],
        json!({"subscription": answer["result"], "end": {"reason": "failed"}})
    );
}

#[test]
fn a_client_that_unsubscribes_gets_no_notice_and_a_drain_tells_each_shutting_down() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut alive = Vec::new();
    let (first, _) = run(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_idle","id":1}"#,
        &mut alive,
    );
    let (second, _) = run(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_idle","id":2}"#,
        &mut alive,
    );
    let unsubscribe = format!(
        r#"{{"jsonrpc":"2.0","method":"unsubscribe_idle","params":[{}],"id":3}}"#,
        first["result"]
    );
    let (answer, notes) = run(&router, &cx, &unsubscribe, &mut alive);
    assert_eq!(answer["result"], true);
    assert_eq!(notes, Vec::<Value>::new(), "the client asked: no notice");

    // A client that went away (a stream's input ended) is told nothing.
    let quiet = Outbox::default();
    let quiet_cx = Context::new().with_outbox(&quiet);
    let mut quiet_alive = Vec::new();
    run(
        &router,
        &quiet_cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_idle","id":1}"#,
        &mut quiet_alive,
    );
    quiet.end_subscriptions_unannounced();
    assert_eq!(take(&quiet), Vec::<Value>::new());

    outbox.end_subscriptions();
    let notes = take(&outbox);
    assert_eq!(
        notes,
        [
            json!({"jsonrpc":"2.0","method":"idle","params":{"subscription":second["result"],"end":{"reason":"shutting down"}}})
        ]
    );
}

#[test]
fn without_the_declaration_nothing_follows_the_last_item() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut alive = Vec::new();
    let body = r#"{"jsonrpc":"2.0","method":"subscribe_silent","params":[2],"id":1}"#;
    let (_, notes) = run(&router, &cx, body, &mut alive);
    assert_eq!(notes.len(), 2);
    assert!(notes.iter().all(|note| note["params"].get("end").is_none()));
}

#[test]
fn a_drain_after_the_id_is_answered_and_before_the_first_poll_still_tells_the_client() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let body = r#"{"jsonrpc":"2.0","method":"subscribe_idle","id":1}"#;
    let handled = router.handle_sync_push(body.as_bytes(), &cx).unwrap();
    let answer: Value = serde_json::from_slice(&handled.response.unwrap()).unwrap();
    let [subscription]: [Subscription<'_>; 1] = handled.subscriptions.try_into().unwrap();
    // Not told that its answer is out: nothing may come before the id.
    outbox.end_subscriptions();
    assert_eq!(take(&outbox), Vec::<Value>::new());
    drop(subscription);

    // Told, and drained before it is ever polled: the notice goes.
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let handled = router.handle_sync_push(body.as_bytes(), &cx).unwrap();
    let [subscription]: [Subscription<'_>; 1] = handled.subscriptions.try_into().unwrap();
    subscription.answered();
    outbox.end_subscriptions();
    let id = subscription.id().to_string();
    assert_eq!(
        take(&outbox),
        [
            json!({"jsonrpc":"2.0","method":"idle","params":{"subscription":id,"end":{"reason":"shutting down"}}})
        ]
    );
    assert_eq!(answer["result"].as_str().map(str::len), Some(id.len()));
}
