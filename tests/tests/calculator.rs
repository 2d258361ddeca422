//! The calculator over real HTTP: the tutorial's five calls in both param shapes, the edge
//! cases of its arithmetic, and the JSON-RPC 2.0 specification's section 7 examples adapted to
//! its methods.

use rpc_tests::{client, send, Calculator};
use serde_json::{json, Value};

async fn rpc(calculator: &Calculator, http2: bool, body: &str) -> (u16, String) {
    send(&client(http2), "POST", &calculator.url("/rpc"), body).await
}

fn call(method: &str, params: &Value, id: u32) -> String {
    json!({"jsonrpc": "2.0", "method": method, "params": params, "id": id}).to_string()
}

#[tokio::test]
async fn the_tutorials_five_calls_by_name_and_by_position_over_both_protocols() {
    let calculator = Calculator::start().await;
    let cases = [
        ("add", [2, 3], json!(5)),
        ("subtract", [10, 4], json!(6)),
        ("multiply", [6, 7], json!(42)),
        ("divide", [6, 3], json!(2.0)),
    ];
    for http2 in [false, true] {
        for (id, (method, [a, b], expected)) in (1..).zip(&cases) {
            for params in [json!({"a": a, "b": b}), json!([a, b])] {
                let (status, body) = rpc(&calculator, http2, &call(method, &params, id)).await;
                assert_eq!(status, 200);
                let response: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(
                    response,
                    json!({"jsonrpc": "2.0", "result": expected, "id": id}),
                    "{method} {params}"
                );
            }
        }
        for params in [json!({"a": 1, "b": 0}), json!([1, 0])] {
            let (_, body) = rpc(&calculator, http2, &call("divide", &params, 5)).await;
            assert_eq!(
                body,
                r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"division by zero"},"id":5}"#
            );
        }
    }
    // 6 / 3 is the float 2.0, on the wire too.
    let (_, body) = rpc(&calculator, false, &call("divide", &json!([6, 3]), 4)).await;
    assert_eq!(body, r#"{"jsonrpc":"2.0","result":2.0,"id":4}"#);
    calculator.stop().await;
}

#[tokio::test]
async fn overflow_is_invalid_params_never_a_wrapped_value() {
    let calculator = Calculator::start().await;
    for (method, a, b) in [
        ("add", i64::MAX, 1),
        ("subtract", i64::MIN, 1),
        ("multiply", i64::MAX, 2),
        ("multiply", i64::MIN, -1),
    ] {
        let (_, body) = rpc(&calculator, false, &call(method, &json!([a, b]), 1)).await;
        assert_eq!(
            body,
            r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"integer overflow"},"id":1}"#,
            "{method}({a}, {b})"
        );
    }
    // Right at the edges, no overflow.
    let (_, body) = rpc(&calculator, false, &call("add", &json!([i64::MAX, 0]), 1)).await;
    assert_eq!(
        body,
        format!(r#"{{"jsonrpc":"2.0","result":{},"id":1}}"#, i64::MAX)
    );
    let (_, body) = rpc(
        &calculator,
        false,
        &call("divide", &json!([i64::MIN, -1]), 1),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["result"],
        json!(9.223372036854776e18)
    );
    // Operands beyond 64 bits are invalid params too.
    let (_, body) = rpc(
        &calculator,
        false,
        r#"{"jsonrpc":"2.0","method":"add","params":[9223372036854775808,1],"id":1}"#,
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["code"],
        json!(-32602)
    );
}

#[tokio::test]
async fn the_greeting_the_rpc_path_and_nothing_else() {
    let calculator = Calculator::start().await;
    let http = client(false);
    assert_eq!(
        send(&http, "GET", &calculator.url("/"), "").await,
        (200, "Hello, world!".to_owned())
    );
    assert_eq!(send(&http, "GET", &calculator.url("/rpc"), "").await.0, 405);
    assert_eq!(
        send(&http, "GET", &calculator.url("/nowhere"), "").await.0,
        404
    );
    assert_eq!(
        send(&http, "POST", &calculator.url("/nowhere"), "{}")
            .await
            .0,
        404
    );
}

/// The specification's section 7 examples, with the calculator's methods in place of the
/// specification's (`sum` becomes `add`, `subtract` stays; `update`, `foobar` and the others
/// are methods the calculator does not have). Error `data` is the calculator's addition and is
/// left out of the comparison, as in the specification.
#[tokio::test]
async fn the_specifications_examples_adapted_to_the_calculator() {
    let calculator = Calculator::start().await;
    let exchanges: &[(&str, Option<&str>)] = &[
        // rpc call with positional parameters
        (r#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#, Some(r#"{"jsonrpc": "2.0", "result": 19, "id": 1}"#)),
        (r#"{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}"#, Some(r#"{"jsonrpc": "2.0", "result": -19, "id": 2}"#)),
        // rpc call with named parameters
        (r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"b": 23, "a": 42}, "id": 3}"#, Some(r#"{"jsonrpc": "2.0", "result": 19, "id": 3}"#)),
        (r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"a": 42, "b": 23}, "id": 4}"#, Some(r#"{"jsonrpc": "2.0", "result": 19, "id": 4}"#)),
        // notifications
        (r#"{"jsonrpc": "2.0", "method": "add", "params": [1, 2]}"#, None),
        (r#"{"jsonrpc": "2.0", "method": "foobar"}"#, None),
        // rpc call of non-existent method
        (r#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#, Some(r#"{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}"#)),
        // rpc call with invalid JSON
        (r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#, Some(r#"{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}"#)),
        // rpc call with invalid Request object
        (r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#, Some(r#"{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}"#)),
        // rpc call Batch, invalid JSON
        ("[\n  {\"jsonrpc\": \"2.0\", \"method\": \"add\", \"params\": [1,2], \"id\": \"1\"},\n  {\"jsonrpc\": \"2.0\", \"method\"\n]", Some(r#"{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}"#)),
        // rpc call with an empty Array
        ("[]", Some(r#"{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}"#)),
        // rpc call with an invalid Batch (but not empty)
        ("[1]", Some(r#"[{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}]"#)),
        // rpc call with invalid Batch
        ("[1,2,3]", Some(r#"[{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}, {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}, {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}]"#)),
        // rpc call Batch
        (
            r#"[
                {"jsonrpc": "2.0", "method": "add", "params": [1,2], "id": "1"},
                {"jsonrpc": "2.0", "method": "multiply", "params": [7, 1]},
                {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
                {"foo": "boo"},
                {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
                {"jsonrpc": "2.0", "method": "divide", "params": [10, 4], "id": "9"}
            ]"#,
            Some(
                r#"[
                {"jsonrpc": "2.0", "result": 3, "id": "1"},
                {"jsonrpc": "2.0", "result": 19, "id": "2"},
                {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
                {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
                {"jsonrpc": "2.0", "result": 2.5, "id": "9"}
            ]"#,
            ),
        ),
        // rpc call Batch (all notifications)
        (r#"[{"jsonrpc": "2.0", "method": "add", "params": [1,2]}, {"jsonrpc": "2.0", "method": "multiply", "params": [7, 1]}]"#, None),
    ];
    for http2 in [false, true] {
        for (request, expected) in exchanges {
            let (status, body) = rpc(&calculator, http2, request).await;
            match expected {
                None => assert_eq!((status, body.as_str()), (204, ""), "{request}"),
                Some(expected) => {
                    assert_eq!(status, 200, "{request}");
                    let actual: Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(
                        without_error_data(actual),
                        serde_json::from_str::<Value>(expected).unwrap(),
                        "{request}"
                    );
                }
            }
        }
    }
}

fn without_error_data(mut value: Value) -> Value {
    let strip = |response: &mut Value| {
        if let Some(error) = response.get_mut("error").and_then(Value::as_object_mut) {
            error.remove("data");
        }
    };
    match &mut value {
        Value::Array(items) => items.iter_mut().for_each(strip),
        single => strip(single),
    }
    value
}
