//! Async call layers: once per call in single calls, batches and notifications, sync and async
//! methods alike; answering instead of the method, replacing the answer; order among
//! themselves and with the sync layers; panics contained; subscriptions under a layer start
//! only when their id is answered.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rpc_core::{
    rpc_method, rpc_subscription, Answer, AsyncCallLayer, BoxFuture, Call, CallLayer, Context,
    ErrorObject, Next, Outbox, Outcome, Router, Sink,
};
use serde_json::{json, Value};

/// How many times `secret` ran.
static RAN: AtomicUsize = AtomicUsize::new(0);

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Panics, later.
#[rpc_method]
async fn explode() -> u8 {
    tokio::task::yield_now().await;
    panic!("a method bug")
}

/// Counts its calls: a layer refuses them all.
#[rpc_method]
fn secret() -> usize {
    RAN.fetch_add(1, Ordering::Relaxed)
}

/// Adds later.
#[rpc_method]
async fn add_later(a: i64, b: i64) -> i64 {
    tokio::time::sleep(Duration::from_millis(2)).await;
    a + b
}

/// Sends 1, 2, 3.
#[rpc_subscription(notification = "count")]
async fn count(sink: Sink<u64>) {
    for n in 1..=3 {
        if sink.send(n).await.is_err() {
            return;
        }
    }
}

type Seen = Arc<Mutex<Vec<String>>>;

fn take(seen: &Seen) -> Vec<String> {
    std::mem::take(&mut *seen.lock().unwrap())
}

/// Records each call it sees and its answer; refuses calls of `refuse`, replaces the result of
/// `replace`'s calls, panics on `panic_on` (before its future) and `panic_later` (inside it).
#[derive(Default)]
struct Probe {
    name: &'static str,
    seen: Seen,
    refuse: Option<&'static str>,
    replace: Option<&'static str>,
    panic_on: Option<&'static str>,
    panic_later: Option<&'static str>,
}

impl Probe {
    fn new(name: &'static str, seen: &Seen) -> Self {
        Self {
            name,
            seen: Arc::clone(seen),
            ..Self::default()
        }
    }
}

impl AsyncCallLayer for Probe {
    fn call<'a>(&'a self, call: Call<'a>, next: Next<'a>) -> BoxFuture<'a, Answer> {
        if self.panic_on == Some(call.method()) {
            panic!("layer bug");
        }
        Box::pin(async move {
            // An await before anything: the chain really waits here.
            tokio::task::yield_now().await;
            let id = call
                .id()
                .map_or_else(|| "-".to_owned(), ToString::to_string);
            let params = call.params().raw().unwrap_or("none").to_owned();
            let method = call.method();
            self.seen
                .lock()
                .unwrap()
                .push(format!("{} in {method} {id} {params}", self.name));
            if self.panic_later == Some(method) {
                panic!("layer bug, later");
            }
            if self.refuse == Some(method) {
                return ErrorObject::new(4003, "Forbidden")
                    .with_data(self.name)
                    .into();
            }
            let answer = next.run(call).await;
            let outcome = match (answer.outcome().result_json(), answer.error_object()) {
                (Some(json), _) => format!("ok {json}"),
                (None, Some(error)) => format!("error {}", error.code()),
                (None, None) => unreachable!("an answer is a result or an error"),
            };
            self.seen
                .lock()
                .unwrap()
                .push(format!("{} out {method} {outcome}", self.name));
            if self.replace == Some(method) {
                return Answer::result(&json!({ "wrapped": outcome }));
            }
            answer
        })
    }
}

/// A sync layer that records around the async ones.
struct Outer(Seen);

impl CallLayer for Outer {
    fn before(&self, call: &Call<'_>) -> Result<(), ErrorObject> {
        self.0
            .lock()
            .unwrap()
            .push(format!("sync before {}", call.method()));
        Ok(())
    }

    fn after(&self, call: &Call<'_>, outcome: Outcome<'_>) {
        let json = outcome.result_json().unwrap_or("error");
        self.0
            .lock()
            .unwrap()
            .push(format!("sync after {} {json}", call.method()));
    }
}

fn with_layers(layers: impl IntoIterator<Item = Probe>) -> Router {
    let mut router = Router::new();
    router
        .register(add::method())
        .unwrap()
        .register(add_later::method())
        .unwrap()
        .register(count::method())
        .unwrap()
        .register(secret::method())
        .unwrap()
        .register(explode::method())
        .unwrap()
        .alias("plus", "add")
        .unwrap();
    for layer in layers {
        router.async_layer(layer);
    }
    router
}

async fn answer(router: &Router, body: Value) -> Option<Value> {
    let body = serde_json::to_vec(&body).unwrap();
    let answer = router.handle(&body).await?;
    Some(serde_json::from_slice(&answer).unwrap())
}

#[tokio::test]
async fn a_layer_runs_once_per_call_in_single_calls_batches_and_notifications() {
    let seen = Seen::default();
    let router = with_layers([Probe::new("a", &seen)]);
    assert!(!router.is_sync(), "a router with an async layer waits");
    assert!(router.handle_sync(b"{}").is_err());

    let single = json!({"jsonrpc":"2.0","method":"add","params":[1,2],"id":1});
    assert_eq!(answer(&router, single).await.unwrap()["result"], 3);
    assert_eq!(take(&seen), ["a in add 1 [1,2]", "a out add ok 3"]);

    let batch = json!([
        {"jsonrpc":"2.0","method":"add_later","params":{"a":2,"b":3},"id":"x"},
        {"jsonrpc":"2.0","method":"add","params":[4,5]},
        {"jsonrpc":"2.0","method":"nope","id":3},
    ]);
    let answers = answer(&router, batch).await.unwrap();
    assert_eq!(
        answers,
        json!([
            {"jsonrpc":"2.0","result":5,"id":"x"},
            {"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":3},
        ])
    );
    let mut seen_batch = take(&seen);
    seen_batch.sort();
    assert_eq!(
        seen_batch,
        [
            r#"a in add - [4,5]"#,
            r#"a in add_later "x" {"a":2,"b":3}"#,
            r#"a in nope 3 none"#,
            "a out add ok 9",
            "a out add_later ok 5",
            "a out nope error -32601",
        ]
    );

    let note = json!({"jsonrpc":"2.0","method":"add","params":[1,1]});
    assert_eq!(answer(&router, note).await, None);
    assert_eq!(take(&seen), ["a in add - [1,1]", "a out add ok 2"]);
}

#[tokio::test]
async fn a_layer_may_answer_instead_of_the_method_or_replace_its_answer() {
    let seen = Seen::default();
    let mut probe = Probe::new("a", &seen);
    probe.refuse = Some("secret");
    probe.replace = Some("add_later");
    let router = with_layers([probe]);

    let refused = json!({"jsonrpc":"2.0","method":"secret","id":1});
    assert_eq!(
        answer(&router, refused).await.unwrap(),
        json!({"jsonrpc":"2.0","error":{"code":4003,"message":"Forbidden","data":"a"},"id":1})
    );
    // A refused notification is not answered either.
    let note = json!({"jsonrpc":"2.0","method":"secret"});
    assert_eq!(answer(&router, note).await, None);
    assert_eq!(RAN.load(Ordering::Relaxed), 0, "the method never ran");

    let replaced = json!({"jsonrpc":"2.0","method":"add_later","params":[1,2],"id":2});
    assert_eq!(
        answer(&router, replaced).await.unwrap()["result"],
        json!({"wrapped": "ok 3"})
    );
}

#[tokio::test]
async fn layers_nest_first_added_outermost_inside_the_sync_layers() {
    let seen = Seen::default();
    let mut router = with_layers([Probe::new("a", &seen), Probe::new("b", &seen)]);
    router.layer(Outer(Arc::clone(&seen)));
    let call = json!({"jsonrpc":"2.0","method":"add","params":[1,2],"id":1});
    assert_eq!(answer(&router, call).await.unwrap()["result"], 3);
    assert_eq!(
        take(&seen),
        [
            "sync before add",
            "a in add 1 [1,2]",
            "b in add 1 [1,2]",
            "b out add ok 3",
            "a out add ok 3",
            "sync after add 3",
        ]
    );

    // An inner layer's refusal is what the outer ones see.
    let mut inner = Probe::new("b", &seen);
    inner.refuse = Some("add");
    let router = with_layers([Probe::new("a", &seen), inner]);
    let call = json!({"jsonrpc":"2.0","method":"add","params":[1,2],"id":1});
    assert_eq!(answer(&router, call).await.unwrap()["error"]["code"], 4003);
    assert_eq!(
        take(&seen),
        [
            "a in add 1 [1,2]",
            "b in add 1 [1,2]",
            "a out add error 4003"
        ]
    );
}

#[tokio::test]
async fn a_panicking_layer_is_an_internal_error_for_that_call_only() {
    let seen = Seen::default();
    let mut probe = Probe::new("a", &seen);
    probe.panic_on = Some("add");
    probe.panic_later = Some("add_later");
    let mut router = with_layers([probe]);
    router.layer(Outer(Arc::clone(&seen)));
    let batch = json!([
        {"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},
        {"jsonrpc":"2.0","method":"add_later","params":[1,2],"id":2},
        {"jsonrpc":"2.0","method":"nope","id":3},
    ]);
    let answers = answer(&router, batch).await.unwrap();
    assert_eq!(answers[0]["error"]["code"], -32603);
    assert_eq!(answers[1]["error"]["code"], -32603);
    assert_eq!(answers[2]["error"]["code"], -32601);
    // The sync layer saw each call end, the panicking ones as errors.
    let mut ends: Vec<String> = take(&seen)
        .into_iter()
        .filter(|line| line.starts_with("sync after"))
        .collect();
    ends.sort();
    assert_eq!(
        ends,
        [
            "sync after add error",
            "sync after add_later error",
            "sync after nope error"
        ]
    );
}

#[tokio::test]
async fn a_layer_sees_the_context_and_the_answer_size_limit_still_holds() {
    /// Answers with the caller's `x-user` header.
    struct Who;
    impl AsyncCallLayer for Who {
        fn call<'a>(&'a self, call: Call<'a>, _next: Next<'a>) -> BoxFuture<'a, Answer> {
            Box::pin(async move {
                let user = call.context().headers().and_then(|h| h.get("x-user"));
                Answer::result(&user.and_then(|user| user.to_str().ok()).unwrap_or("?"))
            })
        }
    }
    let mut router = Router::new();
    router.async_layer(Who);
    let mut headers = rpc_core::HeaderMap::new();
    headers.insert("x-user", "ada".parse().unwrap());
    let cx = Context::new().with_headers(&headers);
    let body = br#"{"jsonrpc":"2.0","method":"who","id":1}"#;
    let answer = router.handle_with(body, &cx).await.unwrap();
    assert_eq!(answer, br#"{"jsonrpc":"2.0","result":"ada","id":1}"#);

    let small = Context::new().with_headers(&headers).with_max_result_len(2);
    let answer = router.handle_with(body, &small).await.unwrap();
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["error"]["message"], "Result too large");
}

/// Polls a message through `handle_push`, then gives the answer and the notifications sent.
async fn push(router: &Router, outbox: &Outbox, body: Value) -> (Option<Value>, Vec<Value>) {
    let cx = Context::new().with_outbox(outbox);
    let body = serde_json::to_vec(&body).unwrap();
    let handled = router.handle_push(&body, &cx).await;
    let answer = handled
        .response
        .map(|body| serde_json::from_slice(&body).unwrap());
    for subscription in handled.subscriptions {
        subscription.await;
    }
    let mut notes = Vec::new();
    let mut task = std::task::Context::from_waker(std::task::Waker::noop());
    let _ = outbox.poll_take(&mut task, &mut notes);
    let notes = notes
        .iter()
        .map(|note| serde_json::from_slice(&note.parts().concat()).unwrap())
        .collect();
    (answer, notes)
}

#[tokio::test]
async fn a_subscription_under_a_layer_starts_only_when_its_id_is_answered() {
    let seen = Seen::default();
    let router = with_layers([Probe::new("a", &seen)]);
    let outbox = Outbox::default();
    let subscribe = json!({"jsonrpc":"2.0","method":"subscribe_count","id":1});
    let (answer, notes) = push(&router, &outbox, subscribe.clone()).await;
    let id = answer.unwrap()["result"].as_str().unwrap().to_owned();
    assert!(id.starts_with("0x"), "{id}");
    let items: Vec<&Value> = notes.iter().map(|n| &n["params"]["result"]).collect();
    assert_eq!(items, [1, 2, 3]);
    assert!(notes.iter().all(|n| n["params"]["subscription"] == *id));
    assert_eq!(take(&seen)[1], format!("a out subscribe_count ok \"{id}\""));

    // Replaced: the caller never gets the id, and the subscription it opened sends nothing.
    let mut probe = Probe::new("a", &seen);
    probe.replace = Some("subscribe_count");
    let router = with_layers([probe]);
    let (answer, notes) = push(&router, &outbox, subscribe.clone()).await;
    let answer = answer.unwrap();
    assert!(answer["result"]["wrapped"].is_string(), "{answer}");
    assert_eq!(notes, Vec::<Value>::new());
    // Its id is not alive: unsubscribing it answers false.
    let opened = take(&seen)[1]
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let unsubscribe =
        json!({"jsonrpc":"2.0","method":"unsubscribe_count","params":[opened],"id":2});
    let (answer, _) = push(&router, &outbox, unsubscribe).await;
    assert_eq!(answer.unwrap()["result"], false);

    // Refused before the method: an error, no id, nothing sent.
    let mut probe = Probe::new("a", &seen);
    probe.refuse = Some("subscribe_count");
    let router = with_layers([probe]);
    let (answer, notes) = push(&router, &outbox, subscribe).await;
    assert_eq!(answer.unwrap()["error"]["code"], 4003);
    assert_eq!(notes, Vec::<Value>::new());
}

#[tokio::test]
async fn over_a_transport_that_cannot_push_a_subscribe_call_still_says_so() {
    let seen = Seen::default();
    let router = with_layers([Probe::new("a", &seen)]);
    let subscribe = json!({"jsonrpc":"2.0","method":"subscribe_count","id":1});
    let answer = answer(&router, subscribe).await.unwrap();
    assert_eq!(answer["error"]["code"], -32009, "{answer}");
    assert_eq!(take(&seen)[1], "a out subscribe_count error -32009");
}

#[tokio::test]
async fn a_method_that_panics_is_internal_error_for_the_layers_too_and_aliases_keep_their_name() {
    let seen = Seen::default();
    let router = with_layers([Probe::new("a", &seen)]);
    let call = json!({"jsonrpc":"2.0","method":"explode","id":1});
    assert_eq!(
        answer(&router, call).await.unwrap()["error"]["code"],
        -32603
    );
    assert_eq!(
        take(&seen),
        ["a in explode 1 none", "a out explode error -32603"]
    );

    let call = json!({"jsonrpc":"2.0","method":"plus","params":[1,2],"id":2});
    assert_eq!(answer(&router, call).await.unwrap()["result"], 3);
    assert_eq!(take(&seen), ["a in plus 2 [1,2]", "a out plus ok 3"]);
}
