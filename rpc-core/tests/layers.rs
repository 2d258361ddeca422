//! Per-call layers: exactly once per call in single calls, batches and notifications, sync and
//! async; refusal per call; composition order; outcome and duration; panics contained.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rpc_core::{
    rpc_method, Call, CallLayer, Context, ErrorObject, Ext, Extensions, Outcome, Router,
};
use serde_json::{json, Value};

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Adds later.
#[rpc_method]
async fn add_later(a: i64, b: i64) -> i64 {
    tokio::time::sleep(Duration::from_millis(50)).await;
    a + b
}

/// Fails.
#[rpc_method]
fn fail() -> Result<(), ErrorObject> {
    Err(ErrorObject::new(7, "nope"))
}

/// Who calls.
#[rpc_method]
fn whoami(user: Ext<'_, String>) -> String {
    (*user).clone()
}

/// What each layer saw, in order: `"<layer> before <method> <id>"`, `"<layer> after <method>
/// <outcome>"`.
type Seen = Arc<Mutex<Vec<String>>>;

struct Recording {
    name: &'static str,
    seen: Seen,
    /// Refuses calls of this method.
    refuse: Option<&'static str>,
    /// Panics in `before` on calls of this method.
    panic_on: Option<&'static str>,
}

impl Recording {
    fn new(name: &'static str, seen: &Seen) -> Self {
        Self {
            name,
            seen: Arc::clone(seen),
            refuse: None,
            panic_on: None,
        }
    }
}

impl CallLayer for Recording {
    fn before(&self, call: &Call<'_>) -> Result<(), ErrorObject> {
        let id = call
            .id()
            .map_or_else(|| "-".to_owned(), ToString::to_string);
        let params = call.params().raw().unwrap_or("none").to_owned();
        let user = call.context().get::<String>().cloned().unwrap_or_default();
        self.seen.lock().unwrap().push(format!(
            "{} before {} {id} {params} {user}",
            self.name,
            call.method()
        ));
        if self.panic_on == Some(call.method()) {
            panic!("layer bug");
        }
        if self.refuse == Some(call.method()) {
            return Err(ErrorObject::new(4003, "Forbidden").with_data(self.name));
        }
        Ok(())
    }

    fn after(&self, call: &Call<'_>, outcome: Outcome<'_>) {
        let elapsed = call.elapsed();
        let outcome = match (outcome.result_json(), outcome.error_code()) {
            (Some(json), None) => format!("ok {json}"),
            (None, Some(code)) => format!("error {code}"),
            other => panic!("neither a result nor an error: {other:?}"),
        };
        let slow = if elapsed >= Duration::from_millis(5) {
            " slow"
        } else {
            ""
        };
        self.seen.lock().unwrap().push(format!(
            "{} after {} {outcome}{slow}",
            self.name,
            call.method()
        ));
    }
}

fn router(layers: impl IntoIterator<Item = Recording>) -> Router {
    let mut router = Router::new();
    router
        .register(add::method())
        .unwrap()
        .register(add_later::method())
        .unwrap()
        .register(fail::method())
        .unwrap()
        .register(whoami::method())
        .unwrap();
    for layer in layers {
        router.layer(layer);
    }
    router
}

async fn answer(router: &Router, body: Value) -> Option<Value> {
    let body = serde_json::to_vec(&body).unwrap();
    let answer = router.handle(&body).await?;
    Some(serde_json::from_slice(&answer).unwrap())
}

fn take(seen: &Seen) -> Vec<String> {
    std::mem::take(&mut *seen.lock().unwrap())
}

#[tokio::test]
async fn a_layer_runs_once_per_call_in_single_calls_batches_and_notifications() {
    let seen = Seen::default();
    let router = router([Recording::new("L", &seen)]);
    answer(
        &router,
        json!({"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}),
    )
    .await;
    assert_eq!(take(&seen), ["L before add 1 [1,2] ", "L after add ok 3"]);
    // A notification: run, not answered, seen once.
    let none = answer(
        &router,
        json!({"jsonrpc": "2.0", "method": "add_later", "params": [1, 2]}),
    )
    .await;
    assert_eq!(none, None);
    assert_eq!(
        take(&seen),
        ["L before add_later - [1,2] ", "L after add_later ok 3 slow"]
    );
    // A batch: sync, async, a notification, an error, an unknown method; each seen once.
    let batch = json!([
        {"jsonrpc": "2.0", "method": "add", "params": {"a": 1, "b": 1}, "id": "a"},
        {"jsonrpc": "2.0", "method": "add_later", "params": [2, 2], "id": "b"},
        {"jsonrpc": "2.0", "method": "add", "params": [3, 3]},
        {"jsonrpc": "2.0", "method": "fail", "id": "c"},
        {"jsonrpc": "2.0", "method": "nope", "id": "d"},
    ]);
    let answers = answer(&router, batch).await.unwrap();
    assert_eq!(answers.as_array().unwrap().len(), 4);
    let mut seen = take(&seen);
    seen.sort();
    assert_eq!(
        seen,
        [
            "L after add ok 2",
            "L after add ok 6",
            "L after add_later ok 4 slow",
            "L after fail error 7",
            "L after nope error -32601",
            r#"L before add "a" {"a":1,"b":1} "#,
            "L before add - [3,3] ",
            r#"L before add_later "b" [2,2] "#,
            r#"L before fail "c" none "#,
            r#"L before nope "d" none "#,
        ]
    );
}

#[tokio::test]
async fn layers_compose_outermost_first_and_a_refusal_stops_the_call_there() {
    let seen = Seen::default();
    let mut inner = Recording::new("inner", &seen);
    inner.refuse = Some("add");
    let router = router([
        Recording::new("outer", &seen),
        inner,
        Recording::new("innermost", &seen),
    ]);
    answer(
        &router,
        json!({"jsonrpc": "2.0", "method": "fail", "id": 1}),
    )
    .await;
    assert_eq!(
        take(&seen),
        [
            "outer before fail 1 none ",
            "inner before fail 1 none ",
            "innermost before fail 1 none ",
            "innermost after fail error 7",
            "inner after fail error 7",
            "outer after fail error 7",
        ]
    );
    // The inner layer refuses: neither the innermost layer nor the method runs, and only the
    // layers outside it see the refusal.
    let refused = answer(
        &router,
        json!({"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 2}),
    )
    .await;
    assert_eq!(
        refused,
        Some(
            json!({"jsonrpc": "2.0", "error": {"code": 4003, "message": "Forbidden", "data": "inner"}, "id": 2})
        )
    );
    assert_eq!(
        take(&seen),
        [
            "outer before add 2 [1,2] ",
            "inner before add 2 [1,2] ",
            "outer after add error 4003",
        ]
    );
}

#[tokio::test]
async fn a_refusal_in_a_batch_answers_that_call_alone_and_a_refused_notification_is_silent() {
    let seen = Seen::default();
    let mut layer = Recording::new("L", &seen);
    layer.refuse = Some("add_later");
    let router = router([layer]);
    let batch = json!([
        {"jsonrpc": "2.0", "method": "add_later", "params": [1, 1], "id": 1},
        {"jsonrpc": "2.0", "method": "add", "params": [2, 2], "id": 2},
        {"jsonrpc": "2.0", "method": "add_later", "params": [3, 3]},
    ]);
    assert_eq!(
        answer(&router, batch).await,
        Some(json!([
            {"jsonrpc": "2.0", "error": {"code": 4003, "message": "Forbidden", "data": "L"}, "id": 1},
            {"jsonrpc": "2.0", "result": 4, "id": 2},
        ]))
    );
    let notification = json!({"jsonrpc": "2.0", "method": "add_later", "params": [1, 1]});
    assert_eq!(answer(&router, notification).await, None);
}

#[tokio::test]
async fn a_panicking_layer_is_an_internal_error_for_that_call_only() {
    let seen = Seen::default();
    let mut layer = Recording::new("L", &seen);
    layer.panic_on = Some("fail");
    let router = router([Recording::new("outer", &seen), layer]);
    let batch = json!([
        {"jsonrpc": "2.0", "method": "fail", "id": 1},
        {"jsonrpc": "2.0", "method": "add", "params": [2, 2], "id": 2},
    ]);
    assert_eq!(
        answer(&router, batch).await,
        Some(json!([
            {"jsonrpc": "2.0", "error": {"code": -32603, "message": "Internal error"}, "id": 1},
            {"jsonrpc": "2.0", "result": 4, "id": 2},
        ]))
    );
    let seen = take(&seen);
    // (Capturing the panic's backtrace may take long enough to read as slow.)
    assert!(
        seen.iter()
            .any(|line| line.starts_with("outer after fail error -32603")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_panic_in_after_turns_the_answer_into_an_internal_error() {
    struct PanicAfter;
    impl CallLayer for PanicAfter {
        fn after(&self, _: &Call<'_>, _: Outcome<'_>) {
            panic!("after bug");
        }
    }
    let mut router = router([]);
    router.layer(PanicAfter);
    for method in ["add", "add_later"] {
        let call = json!({"jsonrpc": "2.0", "method": method, "params": [1, 2], "id": 1});
        assert_eq!(
            answer(&router, call).await,
            Some(
                json!({"jsonrpc": "2.0", "error": {"code": -32603, "message": "Internal error"}, "id": 1})
            ),
            "{method}"
        );
    }
}

#[tokio::test]
async fn a_layer_sees_the_context() {
    let seen = Seen::default();
    let router = router([Recording::new("L", &seen)]);
    let mut extensions = Extensions::new();
    extensions.insert("ada".to_owned());
    let cx = Context::new().with_extensions(&extensions);
    let answer = router
        .handle_with(br#"{"jsonrpc":"2.0","method":"whoami","id":1}"#, &cx)
        .await
        .unwrap();
    assert_eq!(answer, br#"{"jsonrpc":"2.0","result":"ada","id":1}"#);
    assert_eq!(
        take(&seen),
        ["L before whoami 1 none ada", r#"L after whoami ok "ada""#]
    );
}

#[tokio::test]
async fn a_call_dropped_before_it_ends_still_gets_its_after_hooks() {
    let seen = Seen::default();
    let router = router([Recording::new("L", &seen)]);
    let body = br#"{"jsonrpc":"2.0","method":"add_later","params":[1,2],"id":1}"#;
    // Give up on the call after its first poll, as a request time limit would.
    let timed_out = tokio::time::timeout(Duration::from_millis(1), router.handle(body)).await;
    assert!(timed_out.is_err(), "the call waits 50 ms");
    let seen = take(&seen);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0], "L before add_later 1 [1,2] ");
    // (A loaded machine may take long enough to read as slow.)
    assert!(
        seen[1].starts_with("L after add_later error -32000"),
        "{seen:?}"
    );
}
