//! The call context: what a transport puts in reaches every call of a body, through `Ext`
//! parameters, `&Context` parameters and hand-built methods; a missing required extension is
//! the server's fault, answered -32603 without a word about types.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rpc_core::{
    rpc_method, ConnectionId, Context, ErrorObject, Ext, Extensions, HeaderMap, Method, Params,
    PeerAddr, Router, State, Version,
};
use serde_json::{json, Value};

#[derive(Clone, Debug)]
struct User(String);

/// Says who calls.
#[rpc_method]
fn whoami(user: Ext<'_, User>) -> String {
    user.0.clone()
}

/// Says who calls, when someone does.
#[rpc_method]
fn maybe(user: Option<Ext<'_, User>>) -> Option<String> {
    user.map(|user| user.0.clone())
}

/// Says who calls, later; counts the calls in the state.
#[rpc_method]
async fn whoami_later(calls: State<'_, AtomicUsize>, user: Ext<'_, User>, n: u32) -> String {
    calls.fetch_add(1, Ordering::Relaxed);
    tokio::task::yield_now().await;
    format!("{}#{n}", user.0)
}

/// Everything the transport knows.
#[rpc_method]
fn transport(cx: &Context<'_>, headers: Ext<'_, HeaderMap>) -> Value {
    json!({
        "agent": headers.get("user-agent").and_then(|v| v.to_str().ok()),
        "version": cx.get::<Version>().map(|v| format!("{v:?}")),
        "peer": cx.get::<PeerAddr>().map(ToString::to_string),
        "connection": cx.get::<ConnectionId>().map(|id| id.get()),
    })
}

fn router() -> Router<AtomicUsize> {
    let mut router = Router::with_state(AtomicUsize::new(0));
    router
        .register(whoami::method())
        .unwrap()
        .register(maybe::method())
        .unwrap()
        .register(whoami_later::method())
        .unwrap()
        .register(transport::method())
        .unwrap();
    router
}

fn user_extensions(name: &str) -> Extensions {
    let mut extensions = Extensions::new();
    extensions.insert(User(name.into()));
    extensions
}

async fn answer(router: &Router<AtomicUsize>, body: Value, cx: &Context<'_>) -> Value {
    let body = serde_json::to_vec(&body).unwrap();
    let answer = router.handle_with(&body, cx).await.expect("an answer");
    serde_json::from_slice(&answer).unwrap()
}

#[tokio::test]
async fn every_call_of_a_batch_sees_the_context_sync_and_async() {
    let router = router();
    let extensions = user_extensions("ada");
    let cx = Context::new().with_extensions(&extensions);
    let batch = json!([
        {"jsonrpc": "2.0", "method": "whoami", "id": 1},
        {"jsonrpc": "2.0", "method": "whoami_later", "params": [7], "id": 2},
        {"jsonrpc": "2.0", "method": "maybe", "id": 3},
        {"jsonrpc": "2.0", "method": "whoami_later", "params": {"n": 8}},
        {"jsonrpc": "2.0", "method": "whoami_later", "params": [9], "id": 4},
    ]);
    assert_eq!(
        answer(&router, batch, &cx).await,
        json!([
            {"jsonrpc": "2.0", "result": "ada", "id": 1},
            {"jsonrpc": "2.0", "result": "ada#7", "id": 2},
            {"jsonrpc": "2.0", "result": "ada", "id": 3},
            {"jsonrpc": "2.0", "result": "ada#9", "id": 4},
        ])
    );
    assert_eq!(
        router.state().load(Ordering::Relaxed),
        3,
        "the notification ran too"
    );
}

#[test]
fn the_sync_entry_takes_the_context_too() {
    let mut router = Router::new();
    router.register(whoami::method()).unwrap();
    let extensions = user_extensions("grace");
    let cx = Context::new().with_extensions(&extensions);
    let answer = router
        .handle_sync_with(br#"{"jsonrpc":"2.0","method":"whoami","id":1}"#, &cx)
        .unwrap()
        .unwrap();
    assert_eq!(answer, br#"{"jsonrpc":"2.0","result":"grace","id":1}"#);
}

#[tokio::test]
async fn an_optional_extension_is_none_when_absent() {
    let router = router();
    let call = json!({"jsonrpc": "2.0", "method": "maybe", "id": 1});
    assert_eq!(
        answer(&router, call.clone(), &Context::new()).await,
        json!({"jsonrpc": "2.0", "result": null, "id": 1})
    );
    // The plain entry is the empty context.
    let plain = router.handle(&serde_json::to_vec(&call).unwrap()).await;
    assert_eq!(plain.unwrap(), br#"{"jsonrpc":"2.0","result":null,"id":1}"#);
}

#[tokio::test]
async fn a_missing_required_extension_is_an_internal_error_that_names_no_type() {
    let router = router();
    let (log, _guard) = capture_log();
    for (method, params) in [("whoami", json!([])), ("whoami_later", json!([1]))] {
        let call = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
        let answer = answer(&router, call, &Context::new()).await;
        assert_eq!(
            answer,
            json!({"jsonrpc": "2.0", "error": {"code": -32603, "message": "Internal error"}, "id": 1}),
            "{method}"
        );
    }
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log.matches("a required extension is missing").count(),
        2,
        "{log}"
    );
    assert!(
        log.contains("context::User"),
        "the log names the type: {log}"
    );
}

#[tokio::test]
async fn the_transport_values_are_found_by_type() {
    let router = router();
    let mut headers = HeaderMap::new();
    headers.insert("user-agent", "curl/8".parse().unwrap());
    let connection = ConnectionId::next();
    let cx = Context::new()
        .with_headers(&headers)
        .with_version(Version::HTTP_11)
        .with_peer(PeerAddr("127.0.0.1:4000".parse().unwrap()))
        .with_connection(connection);
    let call = json!({"jsonrpc": "2.0", "method": "transport", "id": 1});
    assert_eq!(
        answer(&router, call, &cx).await["result"],
        json!({
            "agent": "curl/8",
            "version": "HTTP/1.1",
            "peer": "127.0.0.1:4000",
            "connection": connection.get(),
        })
    );
    assert_ne!(ConnectionId::next(), connection, "ids are not reused");
}

#[tokio::test]
async fn hand_built_methods_reach_the_context() {
    let mut router = Router::new();
    router
        .register(Method::new_sync_with(
            "sync",
            |_: &(), cx: &Context<'_>, _: Params<'_>| {
                Ok::<_, ErrorObject>(cx.get::<User>().map(|user| user.0.clone()))
            },
        ))
        .unwrap()
        .register(Method::new_async_with(
            "async",
            |_: &(), cx: &Context<'_>, _: Params<'_>| {
                Box::pin(async move {
                    tokio::task::yield_now().await;
                    Ok::<_, ErrorObject>(cx.get::<User>().map(|user| user.0.clone()))
                })
            },
        ))
        .unwrap();
    let extensions = user_extensions("linus");
    let cx = Context::new().with_extensions(&extensions);
    let batch =
        br#"[{"jsonrpc":"2.0","method":"sync","id":1},{"jsonrpc":"2.0","method":"async","id":2}]"#;
    let answer = router.handle_with(batch, &cx).await.unwrap();
    assert_eq!(
        String::from_utf8(answer).unwrap(),
        r#"[{"jsonrpc":"2.0","result":"linus","id":1},{"jsonrpc":"2.0","result":"linus","id":2}]"#
    );
}

/// Records every event's fields as text while the guard lives.
fn capture_log() -> (Arc<Mutex<String>>, tracing::subscriber::DefaultGuard) {
    struct Recorder(Arc<Mutex<String>>);
    struct Text<'a>(&'a mut String);
    impl tracing::field::Visit for Text<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, "{}={:?} ", field.name(), value);
        }
    }
    impl tracing::Subscriber for Recorder {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            let mut log = self.0.lock().unwrap();
            event.record(&mut Text(&mut log));
            log.push('\n');
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }
    let log = Arc::new(Mutex::new(String::new()));
    let guard = tracing::subscriber::set_default(Recorder(Arc::clone(&log)));
    (log, guard)
}

/// A string of `len` bytes, later.
#[rpc_method]
async fn big_later(len: usize) -> String {
    tokio::task::yield_now().await;
    "x".repeat(len)
}

/// A string of `len` bytes.
#[rpc_method]
fn big(len: usize) -> String {
    "x".repeat(len)
}

#[tokio::test]
async fn a_result_over_the_transports_limit_is_an_error_sync_or_async() {
    let mut router = Router::new();
    router
        .register(big::method())
        .unwrap()
        .register(big_later::method())
        .unwrap();
    let cx = Context::new().with_max_result_len(10);
    let batch = br#"[{"jsonrpc":"2.0","method":"big","params":[7],"id":1},{"jsonrpc":"2.0","method":"big","params":[20],"id":2},{"jsonrpc":"2.0","method":"big_later","params":[20],"id":3},{"jsonrpc":"2.0","method":"big_later","params":[3],"id":4}]"#;
    let answer: Value =
        serde_json::from_slice(&router.handle_with(batch, &cx).await.unwrap()).unwrap();
    let too_large = json!({"code": -32008, "message": "Result too large", "data": {"limit": 10}});
    assert_eq!(
        answer,
        json!([
            {"jsonrpc": "2.0", "result": "xxxxxxx", "id": 1},
            {"jsonrpc": "2.0", "error": too_large, "id": 2},
            {"jsonrpc": "2.0", "error": too_large, "id": 3},
            {"jsonrpc": "2.0", "result": "xxx", "id": 4},
        ])
    );
    // No limit by default.
    let plain = router
        .handle(br#"{"jsonrpc":"2.0","method":"big","params":[100],"id":1}"#)
        .await;
    assert!(plain.unwrap().len() > 100);
}
