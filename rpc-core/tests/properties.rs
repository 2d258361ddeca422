//! Property tests: whatever the bytes, the dispatcher answers nothing or well-formed JSON-RPC,
//! never panics, and answers exactly the entries the specification says it must.

mod common;

use common::{call_bytes, spec_router, sync_spec_router, Log};
use proptest::prelude::*;
use rpc_core::{Response, Router};
use serde_json::{Map, Value};

/// Checks a response body is one well-formed response or a non-empty array of them, and
/// returns their ids as the exact JSON text sent back.
fn well_formed(body: &str) -> Vec<String> {
    // Read through raw values, not `Value`, so that number ids keep their exact text.
    let items: Vec<&serde_json::value::RawValue> = if body.starts_with('[') {
        serde_json::from_str(body).expect("a batch response is a JSON array")
    } else {
        vec![serde_json::from_str(body).expect("a response is JSON")]
    };
    assert!(
        !items.is_empty(),
        "an empty array is never an answer: {body}"
    );
    items
        .into_iter()
        .map(|item| {
            let text = item.get();
            let response: Response<'_> = serde_json::from_str(text)
                .unwrap_or_else(|err| panic!("not a response ({err}): {text}"));
            if let Err(error) = &response.outcome {
                assert!(
                    [-32700, -32600, -32601, -32602, -32603].contains(&error.code()),
                    "unexpected code in {text}"
                );
            }
            response.id.to_string()
        })
        .collect()
}

fn run(router: &Router<Log>, body: &[u8]) -> Option<Vec<String>> {
    call_bytes(router, body).map(|response| well_formed(&response))
}

/// Which id a request element is answered with (as the JSON text sent), if it is answered at
/// all, by the rules of the specification alone.
fn model(entry: &Value) -> Option<String> {
    model_value(entry).map(|id| id.to_string())
}

fn model_value(entry: &Value) -> Option<Value> {
    let Some(object) = entry.as_object() else {
        return Some(Value::Null);
    };
    let id = match object.get("id") {
        Some(id @ (Value::Null | Value::Number(_) | Value::String(_))) => Some(id.clone()),
        Some(_) => return Some(Value::Null),
        None => None,
    };
    let valid = object.get("jsonrpc") == Some(&Value::from("2.0"))
        && object.get("method").is_some_and(Value::is_string)
        && object
            .get("params")
            .is_none_or(|p| p.is_array() || p.is_object() || p.is_null());
    if valid {
        id
    } else {
        Some(id.unwrap_or(Value::Null))
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z\\\\\"\u{e9}\u{1F600}]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{0,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects shaped like requests, right or wrong in every member.
fn request_like() -> impl Strategy<Value = Value> {
    let version = prop_oneof![3 => Just(Some(Value::from("2.0"))), 1 => Just(None), 1 => json_value().prop_map(Some)];
    let method = prop_oneof![
        4 => prop::sample::select(vec!["subtract", "sum", "get_data", "fail", "notify_hello", "log_async", "missing"])
            .prop_map(|m| Some(Value::from(m))),
        1 => Just(None),
        1 => json_value().prop_map(Some),
    ];
    let params = prop_oneof![
        2 => Just(None),
        2 => prop::collection::vec(any::<i32>().prop_map(Value::from), 0..4).prop_map(|v| Some(Value::Array(v))),
        1 => json_value().prop_map(Some),
    ];
    let id = prop_oneof![
        2 => Just(None),
        2 => any::<i64>().prop_map(|n| Some(Value::from(n))),
        1 => "[a-z0-9]{0,6}".prop_map(|s| Some(Value::from(s))),
        1 => json_value().prop_map(Some),
    ];
    (version, method, params, id, json_value()).prop_map(|(version, method, params, id, extra)| {
        let mut object = Map::new();
        for (key, value) in [
            ("jsonrpc", version),
            ("method", method),
            ("params", params),
            ("id", id),
            ("x", Some(extra)),
        ] {
            if let Some(value) = value {
                object.insert(key.to_owned(), value);
            }
        }
        Value::Object(object)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_get_nothing_or_a_well_formed_answer(body in prop::collection::vec(any::<u8>(), 0..256)) {
        run(&spec_router(), &body);
    }

    #[test]
    fn random_json_gets_nothing_or_a_well_formed_answer(value in json_value()) {
        run(&spec_router(), value.to_string().as_bytes());
    }

    #[test]
    fn mangled_requests_get_nothing_or_a_well_formed_answer(
        entry in request_like(),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut body = entry.to_string().into_bytes();
        let at = cut.index(body.len());
        body[at] = byte;
        run(&spec_router(), &body);
        body.truncate(at);
        run(&spec_router(), &body);
    }

    #[test]
    fn exactly_the_entries_the_spec_says_are_answered(entry in request_like()) {
        let ids = run(&spec_router(), entry.to_string().as_bytes());
        prop_assert_eq!(ids, model(&entry).map(|id| vec![id]));
    }

    #[test]
    fn a_sync_router_answers_at_once_as_it_does_through_its_future(
        entries in prop::collection::vec(prop_oneof![4 => request_like(), 1 => json_value()], 1..12),
        single in any::<bool>(),
    ) {
        let body = if single { entries[0].to_string() } else { Value::Array(entries).to_string() };
        let (now, later) = (sync_spec_router(), sync_spec_router());
        prop_assert!(now.is_sync());
        let answered_now = now.handle_sync(body.as_bytes()).expect("a sync router");
        prop_assert_eq!(answered_now.map(String::from_utf8), call_bytes(&later, body.as_bytes()).map(Ok));
        prop_assert_eq!(now.state().entries(), later.state().entries());
    }

    #[test]
    fn batches_answer_each_entry_the_spec_says_in_order(
        entries in prop::collection::vec(prop_oneof![4 => request_like(), 1 => json_value()], 1..12),
    ) {
        let body = Value::Array(entries.clone()).to_string();
        let expected: Vec<String> = entries.iter().filter_map(model).collect();
        let ids = run(&spec_router(), body.as_bytes());
        if expected.is_empty() {
            prop_assert_eq!(ids, None);
        } else {
            prop_assert_eq!(ids, Some(expected));
        }
    }
}
