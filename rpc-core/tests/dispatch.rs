//! The dispatcher, point by point: ids, notifications, batches, invalid input, limits, panics.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{call, call_bytes, error_code, json, spec_router, sync_spec_router};
use rpc_core::{ErrorObject, Method, Params, Router};
use serde_json::{json as j, Value};

const INVALID_REQUEST: i64 = -32600;
const PARSE_ERROR: i64 = -32700;

fn request(id: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","method":"subtract","params":[5,2],"id":{id}}}"#)
}

#[test]
fn ids_are_echoed_as_the_exact_json_value_received() {
    let router = spec_router();
    for id in [
        r#""abc""#,
        r#""""#,
        r#""with \"quotes\" and \\ and é""#,
        "0",
        "-7",
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "123456789012345678901234567890",
        "1.5",
        "-2.5e-3",
        // Found by fuzzing (a harness that parsed answers with serde_json::Value choked on it):
        // valid JSON beyond f64, echoed exactly.
        "1e400",
        "-0",
        "null",
    ] {
        let response = call(&router, &request(id)).unwrap();
        assert_eq!(
            response,
            format!(r#"{{"jsonrpc":"2.0","result":3,"id":{id}}}"#)
        );
    }
}

#[test]
fn escaped_string_ids_are_echoed_as_the_same_string() {
    let router = spec_router();
    let response = call(&router, &request(r#""\u0041\n""#)).unwrap();
    assert_eq!(json(&response)["id"], j!("A\n"));
}

#[test]
fn ids_that_are_arrays_objects_or_booleans_make_the_request_invalid() {
    let router = spec_router();
    for id in ["[1]", "[]", r#"{"a":1}"#, "true", "false"] {
        let response = call(&router, &request(id)).unwrap();
        assert_eq!(error_code(&response), INVALID_REQUEST, "id {id}");
        assert_eq!(json(&response)["id"], Value::Null, "id {id}");
    }
    assert_eq!(
        router.state().calls.load(Ordering::SeqCst),
        0,
        "no invalid request is run"
    );
}

#[test]
fn an_unpaired_surrogate_in_an_id_is_not_a_readable_id() {
    let router = spec_router();
    let response = call(&router, &request(r#""\ud800""#)).unwrap();
    assert_eq!(error_code(&response), INVALID_REQUEST);
    assert_eq!(json(&response)["id"], Value::Null);
}

#[test]
fn notifications_are_run_and_never_answered_even_when_they_fail() {
    let router = spec_router();
    for method in ["fail", "panic", "no_such_method", "async_panic"] {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"{method}"}}"#);
        assert_eq!(call(&router, &body), None, "{method}");
    }
    // A notification with params that do not fit is still not answered.
    assert_eq!(
        call(
            &router,
            r#"{"jsonrpc":"2.0","method":"subtract","params":["x"]}"#
        ),
        None
    );
    assert_eq!(router.state().entries(), ["fail", "panic"]);
    assert_eq!(router.state().calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_null_id_is_a_call_not_a_notification() {
    let router = spec_router();
    let response = call(&router, r#"{"jsonrpc":"2.0","method":"fail","id":null}"#).unwrap();
    assert_eq!(json(&response)["id"], Value::Null);
    assert_eq!(error_code(&response), -32602);
}

#[test]
fn batch_responses_keep_request_order_across_sync_and_async_calls() {
    let router = spec_router();
    let response = call(
        &router,
        r#"[
            {"jsonrpc":"2.0","method":"echo_later","params":["slow",40],"id":1},
            {"jsonrpc":"2.0","method":"subtract","params":[10,1],"id":2},
            {"jsonrpc":"2.0","method":"echo_later","params":["quiet",0]},
            {"jsonrpc":"2.0","method":"echo_later","params":["fast",0],"id":3},
            {"jsonrpc":"2.0","method":"notify_hello","params":[1]},
            {"jsonrpc":"2.0","method":"fail","id":4},
            {"jsonrpc":"2.0","method":"echo_later","params":["bad"],"id":5}
        ]"#,
    )
    .unwrap();
    let response = json(&response);
    let ids: Vec<_> = response
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids, [j!(1), j!(2), j!(3), j!(4), j!(5)]);
    assert_eq!(response[0]["result"], j!("slow"));
    assert_eq!(response[1]["result"], j!(9));
    assert_eq!(response[2]["result"], j!("fast"));
    assert_eq!(response[3]["error"]["code"], j!(-32602));
    assert_eq!(response[4]["error"]["code"], j!(-32602));
}

#[test]
fn async_calls_of_a_batch_run_concurrently() {
    // Each call waits at a barrier that opens only when both are waiting: run one after the
    // other, the batch would never finish.
    let mut router = Router::with_state(tokio::sync::Barrier::new(2));
    router
        .register(Method::new_async(
            "meet",
            |barrier: &tokio::sync::Barrier, _: Params<'_>| {
                Box::pin(async move {
                    barrier.wait().await;
                    Ok::<_, ErrorObject>("met")
                })
            },
        ))
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let body =
        br#"[{"jsonrpc":"2.0","method":"meet","id":1},{"jsonrpc":"2.0","method":"meet","id":2}]"#;
    let response = runtime
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(10), router.handle(body)).await
        })
        .expect("the two calls did not run concurrently");
    assert_eq!(
        String::from_utf8(response.unwrap()).unwrap(),
        r#"[{"jsonrpc":"2.0","result":"met","id":1},{"jsonrpc":"2.0","result":"met","id":2}]"#
    );
}

#[test]
fn a_batch_of_async_notifications_is_run_and_not_answered() {
    let router = spec_router();
    let body = r#"[{"jsonrpc":"2.0","method":"log_async","params":[1]},{"jsonrpc":"2.0","method":"async_panic"},{"jsonrpc":"2.0","method":"log_async","params":[2]}]"#;
    assert_eq!(call(&router, body), None);
    // Concurrent calls finish in no set order.
    let mut entries = router.state().entries();
    entries.sort();
    assert_eq!(entries, ["log_async [1]", "log_async [2]"]);
    assert_eq!(
        call(
            &router,
            r#"{"jsonrpc":"2.0","method":"log_async","params":[3]}"#
        ),
        None
    );
    assert_eq!(
        router.state().entries().last().map(String::as_str),
        Some("log_async [3]")
    );
}

#[test]
fn an_async_method_that_panics_before_its_future_exists_is_an_internal_error() {
    let router = spec_router();
    let response = call(
        &router,
        r#"[{"jsonrpc":"2.0","method":"panic_early","id":1},{"jsonrpc":"2.0","method":"log_async","id":2},{"jsonrpc":"2.0","method":"panic_early"}]"#,
    )
    .unwrap();
    let response = json(&response);
    assert_eq!(
        response[0]["error"],
        j!({"code": -32603, "message": "Internal error"})
    );
    assert_eq!(response[1]["result"], j!("logged"));
    assert_eq!(response.as_array().unwrap().len(), 2);
}

#[test]
fn method_names_with_escapes_are_decoded_before_lookup() {
    let router = spec_router();
    let body = r#"[{"jsonrpc":"2.0","method":"sub\u0074ract","params":[3,1],"id":1},{"jsonrpc":"2.0","method":"\ud800","id":2}]"#;
    let response = json(&call(&router, body).unwrap());
    assert_eq!(response[0]["result"], j!(2));
    assert_eq!(
        response[1]["error"]["code"],
        j!(INVALID_REQUEST),
        "an unpaired surrogate is no string"
    );
    assert_eq!(response[1]["id"], j!(2));
}

#[test]
fn an_empty_batch_is_one_invalid_request() {
    let response = call(&spec_router(), " [ ] ").unwrap();
    let response = json(&response);
    assert!(response.is_object());
    assert_eq!(response["error"]["code"], j!(INVALID_REQUEST));
    assert_eq!(response["error"]["data"], j!("a batch must not be empty"));
}

#[test]
fn each_non_object_element_of_a_batch_is_one_invalid_request() {
    let response = call(&spec_router(), r#"[1, "a", null, true, [1,[2]], {}, 2.5]"#).unwrap();
    let response = json(&response);
    let items = response.as_array().unwrap();
    assert_eq!(items.len(), 7);
    for item in items {
        assert_eq!(item["error"]["code"], j!(INVALID_REQUEST));
        assert_eq!(item["id"], Value::Null);
    }
}

#[test]
fn bodies_that_are_not_request_objects_are_invalid_requests() {
    let router = spec_router();
    for body in ["{}", "5", r#""text""#, "null", "true", "-1.5"] {
        let response = call(&router, body).unwrap();
        assert_eq!(error_code(&response), INVALID_REQUEST, "{body}");
        assert_eq!(json(&response)["id"], Value::Null, "{body}");
    }
}

#[test]
fn malformed_json_is_a_parse_error_with_a_null_id() {
    let router = spec_router();
    for body in [
        "",
        "   ",
        "{",
        "[",
        r#"{"jsonrpc":"2.0","method":"subtract","id":1"#,
        r#"{"jsonrpc":"2.0" "method":"x"}"#,
        r#"{'jsonrpc':'2.0'}"#,
        r#"{"jsonrpc":"2.0","method":"x",}"#,
        "[1,]",
        "nul",
        r#"{"a":01}"#,
        r#"{"a":"\x"}"#,
        "{\"a\":\"tab\there\"}",
    ] {
        let response = call(&router, body).unwrap();
        assert_eq!(error_code(&response), PARSE_ERROR, "{body:?}");
        assert_eq!(json(&response)["id"], Value::Null, "{body:?}");
    }
}

#[test]
fn parse_errors_say_where_the_json_breaks() {
    let response = call(&spec_router(), r#"{"jsonrpc": ]"#).unwrap();
    let data = json(&response)["error"]["data"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(data.contains("line 1 column 13"), "{data}");
}

#[test]
fn trailing_bytes_after_the_json_value_are_a_parse_error() {
    let router = spec_router();
    let valid = request("1");
    for body in [
        format!("{valid} x"),
        format!("{valid}{valid}"),
        format!("{valid},"),
        format!("[{valid}]]"),
    ] {
        assert_eq!(
            error_code(&call(&router, &body).unwrap()),
            PARSE_ERROR,
            "{body}"
        );
    }
    // Whitespace around the value is fine.
    let response = call(&router, &format!("\n\t {valid} \r\n")).unwrap();
    assert_eq!(json(&response)["result"], j!(3));
}

#[test]
fn invalid_utf8_is_a_parse_error() {
    let router = spec_router();
    let mut body = br#"{"jsonrpc":"2.0","method":"subtract","params":[5,2],"id":"#.to_vec();
    body.extend_from_slice(b"\"\xff\xfe\"}");
    let response = call_bytes(&router, &body).unwrap();
    assert_eq!(error_code(&response), PARSE_ERROR);
    assert_eq!(
        error_code(&call_bytes(&router, b"\xc3").unwrap()),
        PARSE_ERROR
    );
}

#[test]
fn the_version_member_must_be_exactly_the_string_2_0() {
    let router = spec_router();
    for version in [
        None,
        Some(r#""1.0""#),
        Some("2.0"),
        Some("2"),
        Some(r#""2.0 ""#),
        Some("null"),
        Some(r#"["2.0"]"#),
    ] {
        let body = match version {
            Some(v) => format!(r#"{{"jsonrpc":{v},"method":"subtract","params":[5,2],"id":"v"}}"#),
            None => r#"{"method":"subtract","params":[5,2],"id":"v"}"#.to_owned(),
        };
        let response = call(&router, &body).unwrap();
        assert_eq!(error_code(&response), INVALID_REQUEST, "{body}");
        assert_eq!(
            json(&response)["id"],
            j!("v"),
            "the request's id is kept: {body}"
        );
    }
    let escaped = r#"{"jsonrpc":"2\u002e0","method":"subtract","params":[5,2],"id":1}"#;
    assert_eq!(json(&call(&router, escaped).unwrap())["result"], j!(3));
}

#[test]
fn the_method_member_must_be_a_string() {
    let router = spec_router();
    for method in ["1", "null", "[]", r#"{"a":1}"#, "true"] {
        let body = format!(r#"{{"jsonrpc":"2.0","method":{method},"id":9}}"#);
        let response = call(&router, &body).unwrap();
        assert_eq!(error_code(&response), INVALID_REQUEST, "{body}");
        assert_eq!(json(&response)["id"], j!(9));
    }
    let response = call(&router, r#"{"jsonrpc":"2.0","id":9}"#).unwrap();
    assert_eq!(error_code(&response), INVALID_REQUEST);
    assert_eq!(
        json(&response)["error"]["data"],
        j!("`method` must be a string")
    );
}

#[test]
fn scalar_params_make_the_request_invalid() {
    let router = spec_router();
    for params in ["1", r#""bar""#, "true", "false", "0.5"] {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"sum","params":{params},"id":1}}"#);
        let response = call(&router, &body).unwrap();
        assert_eq!(error_code(&response), INVALID_REQUEST, "{body}");
        assert_eq!(json(&response)["id"], j!(1));
    }
}

#[test]
fn null_and_absent_params_both_mean_no_params() {
    let mut router = Router::new();
    router
        .register(Method::new_sync(
            "describe",
            |_: &(), params: Params<'_>| {
                Ok::<_, ErrorObject>(match params.raw() {
                    None => "none".to_owned(),
                    Some(raw) => raw.to_owned(),
                })
            },
        ))
        .unwrap();
    for (params, expected) in [
        ("", "none"),
        (r#","params":null"#, "none"),
        (r#","params":[ ]"#, "[ ]"),
        (r#","params":{}"#, "{}"),
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"describe"{params},"id":1}}"#);
        assert_eq!(
            json(&call(&router, &body).unwrap())["result"],
            j!(expected),
            "{body}"
        );
    }
}

#[test]
fn an_unknown_method_is_method_not_found_with_the_request_id() {
    let router = spec_router();
    let response = call(&router, r#"{"jsonrpc":"2.0","method":"nope","id":[1]}"#).unwrap();
    assert_eq!(
        error_code(&response),
        INVALID_REQUEST,
        "the id is checked first"
    );
    let response = call(
        &router,
        r#"{"jsonrpc":"2.0","method":"Subtract","id":{"x":1}}"#,
    )
    .unwrap();
    assert_eq!(error_code(&response), INVALID_REQUEST);
    let response = call(&router, r#"{"jsonrpc":"2.0","method":"Subtract","id":"x"}"#).unwrap();
    assert_eq!(
        response,
        r#"{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"x"}"#
    );
}

#[test]
fn duplicate_members_make_the_request_invalid() {
    let router = spec_router();
    let body = r#"{"jsonrpc":"2.0","method":"subtract","method":"sum","params":[1,2],"id":1}"#;
    let response = call(&router, body).unwrap();
    assert_eq!(error_code(&response), INVALID_REQUEST);
    assert_eq!(json(&response)["id"], j!(1), "the id itself is readable");
    assert_eq!(router.state().calls.load(Ordering::SeqCst), 0);
    let twice = r#"{"jsonrpc":"2.0","method":"subtract","params":[1,2],"id":1,"id":2}"#;
    assert_eq!(
        json(&call(&router, twice).unwrap())["id"],
        Value::Null,
        "which id would it be?"
    );
}

#[test]
fn unknown_members_are_ignored() {
    let body = r#"{"jsonrpc":"2.0","method":"subtract","params":[5,2],"id":1,"extra":{"deep":[1,2,{"x":null}]}}"#;
    assert_eq!(json(&call(&spec_router(), body).unwrap())["result"], j!(3));
}

fn batch_of(len: usize) -> String {
    let calls: Vec<_> = (0..len).map(|i| request(&i.to_string())).collect();
    format!("[{}]", calls.join(","))
}

#[test]
fn batches_up_to_the_limit_are_answered_and_longer_ones_refused_whole() {
    let router = spec_router();
    let response = json(&call(&router, &batch_of(1_000)).unwrap());
    assert_eq!(response.as_array().unwrap().len(), 1_000);
    assert_eq!(response[999]["id"], j!(999));
    assert_eq!(router.state().calls.load(Ordering::SeqCst), 1_000);

    let response = json(&call(&router, &batch_of(1_001)).unwrap());
    assert!(response.is_object(), "one error object, not a batch");
    assert_eq!(response["error"]["code"], j!(INVALID_REQUEST));
    assert_eq!(
        response["error"]["data"],
        j!("a batch may hold at most 1000 calls; this one holds 1001")
    );
    assert_eq!(
        router.state().calls.load(Ordering::SeqCst),
        1_000,
        "no call of it was run"
    );

    assert_eq!(
        spec_router().max_batch_len(0).batch_limit(),
        1,
        "at least one call"
    );
    let small = spec_router().max_batch_len(2);
    assert_eq!(small.batch_limit(), 2);
    assert_eq!(
        json(&call(&small, &batch_of(2)).unwrap())
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        error_code(&call(&small, &batch_of(3)).unwrap()),
        INVALID_REQUEST
    );
    // A syntax error after the limit is still a parse error.
    assert_eq!(
        error_code(&call(&small, &format!("{},", &batch_of(3))).unwrap()),
        PARSE_ERROR
    );
}

#[test]
fn deep_nesting_costs_no_stack_and_gets_a_clear_error() {
    let router = spec_router();
    let depth = 100_000;
    // Valid JSON: a batch whose one element is an array, so one invalid request.
    let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let response = json(&call(&router, &body).unwrap());
    assert_eq!(response[0]["error"]["code"], j!(INVALID_REQUEST));
    assert_eq!(response.as_array().unwrap().len(), 1);
    // Deep objects in an unknown member are skipped.
    let deep_object = format!(r#"{}1{}"#, r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let body = format!(r#"{{"jsonrpc":"2.0","method":"get_data","extra":{deep_object},"id":1}}"#);
    assert_eq!(
        json(&call(&router, &body).unwrap())["result"],
        j!(["hello", 5])
    );
    // Decoding params that deep stops at serde_json's recursion limit: invalid params.
    let deep = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let body = format!(r#"{{"jsonrpc":"2.0","method":"echo_later","params":[{deep},0],"id":1}}"#);
    let response = call(&router, &body).unwrap();
    assert_eq!(error_code(&response), -32602);
    assert_eq!(
        json(&response)["error"]["data"],
        j!("recursion limit exceeded")
    );
    // Unbalanced, it is a parse error.
    let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth - 1));
    assert_eq!(error_code(&call(&router, &body).unwrap()), PARSE_ERROR);
}

#[test]
fn a_panicking_method_answers_internal_error_for_that_call_only() {
    let router = spec_router();
    let response = call(
        &router,
        r#"[
            {"jsonrpc":"2.0","method":"subtract","params":[3,1],"id":1},
            {"jsonrpc":"2.0","method":"panic","id":2},
            {"jsonrpc":"2.0","method":"async_panic","id":3},
            {"jsonrpc":"2.0","method":"echo_later","params":["after",1],"id":4}
        ]"#,
    )
    .unwrap();
    assert!(
        !response.contains("secret"),
        "the panic's text stays in the log: {response}"
    );
    let response = json(&response);
    assert_eq!(response[0]["result"], j!(2));
    assert_eq!(
        response[1]["error"],
        j!({"code": -32603, "message": "Internal error"})
    );
    assert_eq!(response[1]["id"], j!(2));
    assert_eq!(
        response[2]["error"],
        j!({"code": -32603, "message": "Internal error"})
    );
    assert_eq!(response[2]["id"], j!(3));
    assert_eq!(response[3]["result"], j!("after"));
    // The router still serves.
    assert_eq!(
        json(&call(&router, &request("5")).unwrap())["result"],
        j!(3)
    );
}

#[test]
fn a_result_that_cannot_be_serialized_is_an_internal_error() {
    let mut router = Router::new();
    router
        .register(Method::new_sync("bad_map", |_: &(), _: Params<'_>| {
            let mut map = std::collections::BTreeMap::new();
            map.insert(vec![1], "non-string key");
            Ok::<_, ErrorObject>(map)
        }))
        .unwrap();
    let response = call(&router, r#"{"jsonrpc":"2.0","method":"bad_map","id":1}"#).unwrap();
    assert_eq!(
        response,
        r#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}"#
    );
}

#[derive(Debug, thiserror::Error)]
enum BankError {
    #[error("account {0} is frozen")]
    Frozen(u32),
}

impl From<BankError> for ErrorObject {
    fn from(err: BankError) -> Self {
        match err {
            BankError::Frozen(account) => {
                ErrorObject::new(1001, err.to_string()).with_data(account)
            }
        }
    }
}

#[test]
fn methods_return_their_own_error_types_through_from() {
    let mut router = Router::new();
    router
        .register(Method::new_sync("withdraw", |_: &(), _: Params<'_>| {
            Err::<(), _>(BankError::Frozen(7))
        }))
        .unwrap();
    let response = call(&router, r#"{"jsonrpc":"2.0","method":"withdraw","id":1}"#).unwrap();
    assert_eq!(
        response,
        r#"{"jsonrpc":"2.0","error":{"code":1001,"message":"account 7 is frozen","data":7},"id":1}"#
    );
}

#[test]
fn methods_share_the_router_state() {
    let mut router = Router::with_state(Arc::new(AtomicUsize::new(0)));
    router
        .register(Method::new_sync(
            "count",
            |n: &Arc<AtomicUsize>, _: Params<'_>| {
                Ok::<_, ErrorObject>(n.fetch_add(1, Ordering::SeqCst) + 1)
            },
        ))
        .unwrap()
        .register(Method::new_async(
            "count_async",
            |n: &Arc<AtomicUsize>, _: Params<'_>| {
                Box::pin(async move { Ok::<_, ErrorObject>(n.fetch_add(1, Ordering::SeqCst) + 1) })
            },
        ))
        .unwrap();
    let counter = Arc::clone(router.state());
    call(&router, r#"{"jsonrpc":"2.0","method":"count","id":1}"#);
    let last = call(
        &router,
        r#"{"jsonrpc":"2.0","method":"count_async","id":1}"#,
    )
    .unwrap();
    assert_eq!(json(&last)["result"], j!(2));
    assert_eq!(counter.load(Ordering::SeqCst), 2);
}

#[test]
fn registering_a_name_twice_is_an_error_and_keeps_the_first() {
    let mut router = Router::new();
    router
        .register(Method::new_sync("m", |_: &(), _: Params<'_>| {
            Ok::<_, ErrorObject>(1)
        }))
        .unwrap();
    let err = router
        .register(Method::new_sync("m", |_: &(), _: Params<'_>| {
            Ok::<_, ErrorObject>(2)
        }))
        .unwrap_err();
    assert_eq!(err.name(), "m");
    assert!(err.is_duplicate() && !err.is_reserved());
    assert_eq!(err.to_string(), "a method named `m` is registered already");
    let err = router
        .register(Method::new_sync("rpc.discover", |_: &(), _: Params<'_>| {
            Ok::<_, ErrorObject>(2)
        }))
        .unwrap_err();
    assert!(err.is_reserved());
    assert_eq!(
        err.to_string(),
        "method names beginning with `rpc.` are reserved: `rpc.discover`"
    );
    assert_eq!(router.methods().len(), 1);
    assert_eq!(
        json(&call(&router, r#"{"jsonrpc":"2.0","method":"m","id":1}"#).unwrap())["result"],
        j!(1)
    );
}

#[test]
fn method_metadata_is_kept_for_introspection() {
    let mut router = Router::new();
    router
        .register(
            Method::new_sync("add", |_: &(), _: Params<'_>| Ok::<_, ErrorObject>(0))
                .doc("Adds.")
                .param(rpc_core::ParamInfo::new("a", "i64"))
                .param(rpc_core::ParamInfo::new("b", "Option<i64>").optional())
                .result_type("i64"),
        )
        .unwrap();
    let info = router.method_info("add").unwrap();
    assert_eq!(info.doc, "Adds.");
    assert_eq!(info.params[1].name, "b");
    assert!(info.params[1].optional && !info.params[0].optional);
    assert_eq!(info.result.as_deref(), Some("i64"));
    assert!(!info.is_async);
    assert!(router.method_info("sub").is_none());
    assert_eq!(
        router
            .methods()
            .map(|m| m.name.as_ref())
            .collect::<Vec<_>>(),
        ["add"]
    );
}

#[test]
fn reject_answers_every_call_with_the_error_and_runs_none() {
    let router = spec_router();
    let timeout = ErrorObject::server_error(-32000, "Request timed out");
    let body = r#"[
        {"jsonrpc":"2.0","method":"subtract","params":[1,2],"id":1},
        {"jsonrpc":"2.0","method":"update","params":[1]},
        {"jsonrpc":"2.0","method":"nope","id":"b"},
        {"jsonrpc":"2.0","method":7,"id":3}
    ]"#;
    let response =
        json(&String::from_utf8(router.reject(body.as_bytes(), &timeout).unwrap()).unwrap());
    assert_eq!(
        response[0],
        j!({"jsonrpc":"2.0","error":{"code":-32000,"message":"Request timed out"},"id":1})
    );
    assert_eq!(response[1]["id"], j!("b"));
    assert_eq!(response[1]["error"]["code"], j!(-32000));
    assert_eq!(response[2]["error"]["code"], j!(INVALID_REQUEST));
    assert_eq!(response.as_array().unwrap().len(), 3);
    assert!(router.state().entries().is_empty(), "nothing ran");
    assert_eq!(router.state().calls.load(Ordering::SeqCst), 0);
    assert_eq!(
        router.reject(br#"{"jsonrpc":"2.0","method":"update"}"#, &timeout),
        None
    );
    let parse = String::from_utf8(router.reject(b"{", &timeout).unwrap()).unwrap();
    assert_eq!(error_code(&parse), PARSE_ERROR);
}

#[test]
fn only_a_router_without_async_methods_handles_bodies_at_once() {
    let router = sync_spec_router();
    assert!(router.is_sync());
    let body = br#"[{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"update","params":[1]}]"#;
    assert_eq!(
        router.handle_sync(body).unwrap().as_deref(),
        Some(&br#"[{"jsonrpc":"2.0","result":3,"id":1}]"#[..])
    );
    assert_eq!(router.state().entries(), ["update [1]"]);
    // With an async method, nothing runs: not even the sync calls of a batch.
    let router = spec_router();
    assert!(!router.is_sync());
    assert_eq!(router.handle_sync(body), Err(rpc_core::NotSync));
    assert!(router.state().entries().is_empty());
}
