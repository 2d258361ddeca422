//! The answers a server standing in for an Ethereum node can give in go-ethereum's forms: a
//! subscribe call over plain HTTP, unsubscribing an id that is not alive, and params that do
//! not decode.

use rpc_core::{
    geth, rpc_method, rpc_subscription, Context, ErrorObject, Outbox, Params, ParamsProblem,
    Router, Sink, Subscription,
};
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

/// A balance, at a block.
#[rpc_method]
fn get_balance(address: String, block: u64) -> String {
    format!("{address}@{block}")
}

/// The same, later.
#[rpc_method]
async fn get_balance_later(address: String, block: u64) -> String {
    format!("{address}@{block}")
}

/// Logs from a filter given as the whole params.
#[derive(serde::Deserialize)]
struct Filter {
    #[allow(dead_code)]
    address: String,
}

/// Takes a filter.
#[rpc_method]
fn get_logs(#[rpc(params)] filter: Filter) -> usize {
    filter.address.len()
}

/// Counts down from a number.
#[rpc_subscription]
async fn countdown(from: u64, sink: Sink<u64>) {
    let _ = (from, sink);
}

fn router() -> Router {
    let mut router = Router::new();
    router
        .register(heads::method())
        .unwrap()
        .register(idle::method())
        .unwrap()
        .register(get_balance::method())
        .unwrap()
        .register(get_balance_later::method())
        .unwrap()
        .register(get_logs::method())
        .unwrap()
        .register(countdown::method())
        .unwrap()
        .register(rpc_core::Method::new_sync(
            "hand",
            |_: &(), params: Params<'_>| {
                let (n,): (u8,) = params.parse()?;
                Ok::<_, ErrorObject>(n)
            },
        ))
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
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let handled = rt.block_on(router.handle_push(body.as_bytes(), cx));
    alive.extend(handled.subscriptions);
    serde_json::from_slice(&handled.response.unwrap()).unwrap()
}

#[test]
fn over_plain_http_a_subscribe_call_can_answer_as_geth_does() {
    let mut router = router();
    let body = br#"{"jsonrpc":"2.0","method":"eth_subscribe","params":[],"id":1}"#;
    let default: Value = serde_json::from_slice(&block_on(router.handle(body)).unwrap()).unwrap();
    assert_eq!(default["error"]["code"], -32009);

    router.cannot_push_error(geth::notifications_not_supported());
    let answer: Value = serde_json::from_slice(&block_on(router.handle(body)).unwrap()).unwrap();
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

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// The error of calling `method` with `params` (handled as over a WebSocket).
fn error_of(router: &Router, method: &str, params: &str) -> Value {
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let body = format!(r#"{{"jsonrpc":"2.0","method":"{method}","params":{params},"id":1}}"#);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let handled = rt.block_on(router.handle_push(body.as_bytes(), &cx));
    let answer: Value = serde_json::from_slice(&handled.response.unwrap()).unwrap();
    answer["error"].clone()
}

#[test]
fn decode_errors_can_be_worded_as_geth_words_them_with_the_position_in_the_message() {
    let mut router = router();
    // By default: -32602 "Invalid params", the sentence in `data`.
    assert_eq!(
        error_of(&router, "get_balance", r#"["0xab", "x"]"#),
        json!({"code": -32602, "message": "Invalid params", "data": "parameter \"block\": invalid type: string \"x\", expected u64"})
    );
    router.params_errors(geth::invalid_argument);
    let invalid = |message: &str| json!({"code": -32602, "message": message});
    let cases = [
        (
            "get_balance",
            r#"["0xab", "x"]"#,
            invalid(r#"invalid argument 1: invalid type: string "x", expected u64"#),
        ),
        (
            "get_balance_later",
            r#"[5, 1]"#,
            invalid("invalid argument 0: invalid type: integer `5`, expected a string"),
        ),
        (
            "get_balance",
            r#"["0xab"]"#,
            invalid("missing value for required argument 1"),
        ),
        (
            "get_balance",
            r#"["0xab", 1, 2]"#,
            invalid("too many arguments, want at most 2"),
        ),
        (
            "get_balance",
            r#"{"address": "0xab", "blok": 1}"#,
            invalid(r#"unknown parameter "blok""#),
        ),
        (
            "get_logs",
            r#"{"address": 7}"#,
            invalid("invalid argument 0: invalid type: integer `7`, expected a string"),
        ),
        (
            "subscribe_countdown",
            r#"["ten"]"#,
            invalid(r#"invalid argument 0: invalid type: string "ten", expected u64"#),
        ),
        (
            "hand",
            r#"[300]"#,
            invalid("invalid value: integer `300`, expected u8"),
        ),
    ];
    for (method, params, expected) in cases {
        assert_eq!(
            error_of(&router, method, params),
            expected,
            "{method} {params}"
        );
    }
    // A method's own -32602 is its own: the shaper words decode errors only.
    router.params_errors(|_, _| ErrorObject::new(1, "shaped"));
    assert_eq!(error_of(&router, "nope", "[]")["code"], -32601);
}

#[test]
fn a_shaper_sees_the_method_the_parameter_its_position_and_serdes_reason() {
    let mut router = router();
    router.params_errors(|method, error| {
        let problem = match error.problem() {
            ParamsProblem::Invalid => "invalid",
            ParamsProblem::Missing => "missing",
            ParamsProblem::TooMany { .. } => "too many",
            ParamsProblem::Unknown => "unknown",
            _ => "other",
        };
        ErrorObject::new(-32602, "bad").with_data(json!({
            "method": method,
            "problem": problem,
            "name": error.name(),
            "position": error.position(),
            "reason": error.reason(),
        }))
    });
    let data = |method: &str, params: &str| error_of(&router, method, params)["data"].clone();
    assert_eq!(
        data("get_balance", r#"{"block": true, "address": "a"}"#),
        json!({"method": "get_balance", "problem": "invalid", "name": "block", "position": 1, "reason": "invalid type: boolean `true`, expected u64"})
    );
    assert_eq!(
        data("get_logs", "{}"),
        json!({"method": "get_logs", "problem": "missing", "name": "address", "position": 0, "reason": ""})
    );
    assert_eq!(
        data("get_balance", r#"["a", 1, 2, 3]"#),
        json!({"method": "get_balance", "problem": "too many", "name": null, "position": 2, "reason": ""})
    );
}

/// An async layer that only calls on.
struct Through;

impl rpc_core::AsyncCallLayer for Through {
    fn call<'a>(
        &'a self,
        call: rpc_core::Call<'a>,
        next: rpc_core::Next<'a>,
    ) -> rpc_core::BoxFuture<'a, rpc_core::Answer> {
        Box::pin(next.run(call))
    }
}

#[test]
fn a_shaper_is_given_the_methods_own_name_for_an_alias_with_async_layers_or_without() {
    for layered in [false, true] {
        let mut router = router();
        router
            .alias("eth_getBalance", "get_balance")
            .unwrap()
            .params_errors(|method, _| ErrorObject::new(-32602, method.to_owned()));
        if layered {
            router.async_layer(Through);
        }
        for method in ["eth_getBalance", "get_balance"] {
            assert_eq!(
                error_of(&router, method, r#"["a", "b"]"#)["message"],
                "get_balance",
                "{method}, async layer: {layered}"
            );
        }
    }
}
