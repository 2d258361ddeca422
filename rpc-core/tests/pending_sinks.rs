//! Subscriptions that decide before they start (`PendingSink`): accepted after an await, the
//! call answers the id before any item; refused, it answers the error and nothing is left;
//! dropped undecided, -32603; while deciding, it counts against the connection's limit.

use std::future::Future;
use std::pin::pin;
use std::task::{Context as TaskContext, Waker};

use rpc_core::{
    rpc_method, rpc_subscription, Answer, AsyncCallLayer, BoxFuture, Call, Context, ErrorObject,
    Next, Note, Outbox, OutboxLimits, PendingSink, Router,
};
use serde_json::{json, Value};

/// Sends 1, 2, 3 once allowed; refuses otherwise. Awaits before it decides.
#[rpc_subscription(notification = "tick")]
async fn guarded(allow: bool, pending: PendingSink<u64>) {
    tokio::task::yield_now().await;
    if !allow {
        pending.refuse(ErrorObject::new(4003, "Forbidden").with_data("not yours"));
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

/// Hands its pending sink to another task, which accepts and sends.
#[rpc_subscription(notification = "tick")]
async fn handed(pending: PendingSink<u64>) {
    let task = tokio::spawn(async move {
        let Ok(sink) = pending.accept().await else {
            return;
        };
        let _ = sink.send(1).await;
    });
    let _ = task.await;
}

/// Forgets to decide.
#[rpc_subscription]
async fn forgetful(pending: PendingSink<u64>) {
    tokio::task::yield_now().await;
    drop(pending);
}

/// Never decides.
#[rpc_subscription]
async fn stuck(pending: PendingSink<u64>) {
    std::future::pending::<()>().await;
    drop(pending);
}

/// Panics before it decides.
#[rpc_subscription]
async fn boom(pending: PendingSink<u64>) {
    tokio::task::yield_now().await;
    if pending.id().to_string().len() > 1 {
        panic!("boom");
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
        .register(guarded::method())
        .unwrap()
        .register(forgetful::method())
        .unwrap()
        .register(handed::method())
        .unwrap()
        .register(stuck::method())
        .unwrap()
        .register(boom::method())
        .unwrap()
        .register(add::method())
        .unwrap();
    router
}

/// What the outbox holds now, as JSON.
fn notes(outbox: &Outbox) -> Vec<Value> {
    let mut notes: Vec<Note> = Vec::new();
    let _ = outbox.poll_take(&mut TaskContext::from_waker(Waker::noop()), &mut notes);
    notes
        .iter()
        .map(|note| serde_json::from_slice(&note.parts().concat()).unwrap())
        .collect()
}

/// Handles `body` as a WebSocket would: the answer, then (driven to their end) what the
/// subscriptions it started sent.
async fn push(router: &Router, outbox: &Outbox, body: Value) -> (Value, Vec<Value>) {
    let cx = Context::new().with_outbox(outbox);
    let body = serde_json::to_vec(&body).unwrap();
    let handled = router.handle_push(&body, &cx).await;
    let answer = serde_json::from_slice(&handled.response.unwrap()).unwrap();
    // Nothing before the answer is written: the transport drives them only now.
    assert_eq!(notes(outbox), Vec::<Value>::new());
    for subscription in handled.subscriptions {
        subscription.await;
    }
    (answer, notes(outbox))
}

#[tokio::test]
async fn accepted_after_an_await_the_id_is_answered_before_any_item() {
    let router = router();
    assert!(!router.is_sync(), "a deciding subscription's call waits");
    let outbox = Outbox::default();
    let call = json!({"jsonrpc":"2.0","method":"subscribe_guarded","params":[true],"id":1});
    let (answer, notes) = push(&router, &outbox, call).await;
    let id = answer["result"].as_str().unwrap();
    assert!(id.starts_with("0x"), "{answer}");
    let items: Vec<&Value> = notes.iter().map(|note| &note["params"]["result"]).collect();
    assert_eq!(items, [1, 2, 3]);
    assert!(notes
        .iter()
        .all(|note| note["params"]["subscription"] == id));
    assert_eq!(outbox.subscriptions(), 0, "it ended with its method");
}

#[tokio::test]
async fn refused_the_call_answers_the_error_and_no_id_is_handed_out() {
    let router = router();
    let outbox = Outbox::default();
    let call = json!({"jsonrpc":"2.0","method":"subscribe_guarded","params":[false],"id":1});
    let (answer, notes) = push(&router, &outbox, call).await;
    assert_eq!(
        answer,
        json!({"jsonrpc":"2.0","error":{"code":4003,"message":"Forbidden","data":"not yours"},"id":1})
    );
    assert_eq!(notes, Vec::<Value>::new());
    assert_eq!(outbox.subscriptions(), 0, "nothing leaks");
}

#[tokio::test]
async fn undecided_it_answers_internal_error_and_a_panic_too() {
    let router = router();
    let outbox = Outbox::default();
    for method in ["subscribe_forgetful", "subscribe_boom"] {
        let call = json!({"jsonrpc":"2.0","method":method,"id":7});
        let (answer, notes) = push(&router, &outbox, call).await;
        assert_eq!(
            answer,
            json!({"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":7}),
            "{method}"
        );
        assert_eq!(notes, Vec::<Value>::new());
        assert_eq!(outbox.subscriptions(), 0, "{method}");
    }
}

#[tokio::test]
async fn while_it_decides_it_counts_against_the_limit_and_dropped_it_leaves_nothing() {
    let router = router();
    let outbox = Outbox::new(OutboxLimits::default().max_subscriptions(1));
    let cx = Context::new().with_outbox(&outbox);
    let stuck = br#"{"jsonrpc":"2.0","method":"subscribe_stuck","id":1}"#;
    {
        let mut waiting = pin!(router.handle_push(stuck, &cx));
        let polled = waiting
            .as_mut()
            .poll(&mut TaskContext::from_waker(Waker::noop()));
        assert!(polled.is_pending());
        assert_eq!(
            outbox.subscriptions(),
            1,
            "the undecided one holds its place"
        );
        let another = json!({"jsonrpc":"2.0","method":"subscribe_guarded","params":[true],"id":2});
        let (answer, _) = push(&router, &outbox, another).await;
        assert_eq!(answer["error"]["message"], "Too many subscriptions");
    }
    // Dropped (its request timed out, its connection closed): its place is free.
    assert_eq!(outbox.subscriptions(), 0);
}

#[tokio::test]
async fn in_a_batch_and_under_an_async_layer_it_decides_the_same() {
    struct Pass;
    impl AsyncCallLayer for Pass {
        fn call<'a>(&'a self, call: Call<'a>, next: Next<'a>) -> BoxFuture<'a, Answer> {
            Box::pin(next.run(call))
        }
    }
    let plain = router();
    let mut layered = router();
    layered.async_layer(Pass);
    for router in [&plain, &layered] {
        let outbox = Outbox::default();
        let batch = json!([
            {"jsonrpc":"2.0","method":"subscribe_guarded","params":[true],"id":1},
            {"jsonrpc":"2.0","method":"add","params":[1,2],"id":2},
            {"jsonrpc":"2.0","method":"subscribe_guarded","params":[false],"id":3},
        ]);
        let (answers, notes) = push(router, &outbox, batch).await;
        let id = answers[0]["result"].as_str().unwrap();
        assert_eq!(answers[1]["result"], 3);
        assert_eq!(answers[2]["error"]["code"], 4003);
        assert_eq!(notes.len(), 3);
        assert!(notes
            .iter()
            .all(|note| note["params"]["subscription"] == id));
    }
}

#[tokio::test]
async fn over_a_transport_that_cannot_push_the_method_never_runs() {
    let router = router();
    let body = br#"{"jsonrpc":"2.0","method":"subscribe_boom","id":1}"#;
    let answer: Value = serde_json::from_slice(&router.handle(body).await.unwrap()).unwrap();
    assert_eq!(answer["error"]["code"], -32009, "{answer}");
}

#[tokio::test]
async fn accepted_from_another_task_it_resolves_once_the_answer_is_written() {
    let router = router();
    let outbox = Outbox::default();
    let call = json!({"jsonrpc":"2.0","method":"subscribe_handed","id":1});
    let (answer, notes) = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        push(&router, &outbox, call),
    )
    .await
    .expect("the accepting task is woken");
    let id = answer["result"].as_str().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["params"], json!({"subscription": id, "result": 1}));
}
