//! The tolerant parser's tests: requests, invalid objects, answers, batches.

use super::*;

fn single(text: &str) -> Entry<'_> {
    match parse_body(text.as_bytes(), 10).unwrap() {
        Body::Single(entry) => entry,
        other => panic!("not a single request: {other:?}"),
    }
}

fn invalid_id(text: &str) -> Option<String> {
    match single(text) {
        Entry::Invalid { id, .. } | Entry::Answer { id, .. } => id.map(|id| id.to_string()),
        Entry::Call(req) => panic!("accepted {req:?}"),
    }
}

#[test]
fn reads_members_in_any_order_and_skips_unknown_ones() {
    let Entry::Call(req) =
        single(r#"{"id":"x","params":{"a":1},"extra":[1,{"b":2}],"method":"m","jsonrpc":"2.0"}"#)
    else {
        panic!()
    };
    assert_eq!(req.method, "m");
    assert_eq!(req.params.raw(), Some(r#"{"a":1}"#));
    assert_eq!(req.id.unwrap().as_str(), Some("x"));
}

#[test]
fn escaped_members_are_decoded() {
    let Entry::Call(req) = single(r#"{"json\u0072pc":"2\u002e0","method":"a\nb","id":1}"#) else {
        panic!()
    };
    assert_eq!(req.method, "a\nb");
}

#[test]
fn invalid_objects_keep_a_valid_id() {
    assert_eq!(
        invalid_id(r#"{"jsonrpc":"2.0","method":1,"id":7}"#).as_deref(),
        Some("7")
    );
    assert_eq!(
        invalid_id(r#"{"jsonrpc":"1.0","method":"m","id":"a"}"#).as_deref(),
        Some(r#""a""#)
    );
    assert_eq!(
        invalid_id(r#"{"jsonrpc":"2.0","method":"m","params":3,"id":null}"#).as_deref(),
        Some("null")
    );
    assert_eq!(
        invalid_id(r#"{"jsonrpc":"2.0","method":"m","id":[1]}"#),
        None
    );
    assert_eq!(
        invalid_id(r#"{"jsonrpc":"2.0","method":"m","id":1,"id":2}"#),
        None
    );
    assert_eq!(
        invalid_id(r#"{"jsonrpc":2.0,"method":"m","id":1}"#).as_deref(),
        Some("1")
    );
    assert_eq!(invalid_id(r#"{"method":"m","id":1}"#).as_deref(), Some("1"));
}

#[test]
fn null_params_are_no_params() {
    let Entry::Call(req) = single(r#"{"jsonrpc":"2.0","method":"m","params":null}"#) else {
        panic!()
    };
    assert!(req.params.is_none());
    assert!(req.is_notification());
}

#[test]
fn batches_over_the_limit_are_counted_not_stored() {
    let body = format!("[{}]", vec!["1"; 25].join(","));
    assert!(matches!(
        parse_body(body.as_bytes(), 10),
        Ok(Body::BatchTooLong(25))
    ));
    assert!(matches!(parse_body(b"[1,2,3]", 3), Ok(Body::Batch(v)) if v.len() == 3));
    assert!(parse_body(format!("[{}", vec!["1"; 25].join(",")).as_bytes(), 10).is_err());
}

#[test]
fn strict_deserialize_rejects_invalid_requests() {
    assert!(serde_json::from_str::<Request<'_>>(r#"{"jsonrpc":"2.0","method":1}"#).is_err());
    assert!(serde_json::from_str::<Request<'_>>(r#"{"jsonrpc":"2.0","method":"m"}"#).is_ok());
}

#[test]
fn request_serializes_with_raw_params() {
    let mut req = Request::new("add");
    let raw: &RawValue = serde_json::from_str(r#"{"a":2,"b":3}"#).unwrap();
    req.params = Params::from_raw(raw).unwrap();
    req.id = Some(Id::from(1));
    assert_eq!(
        req.to_json(),
        r#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#
    );
}

#[test]
fn objects_without_a_method_are_answers_and_keep_what_they_are_as_requests() {
    let answer = |text| match single(text) {
        Entry::Answer { id, answer, .. } => (id.map(|id| id.to_string()), answer),
        other => panic!("not an answer: {other:?}"),
    };
    assert!(matches!(
        answer(r#"{"jsonrpc":"2.0","result":{"a":[1]},"id":3}"#),
        (Some(id), Answer::Result(raw)) if id == "3" && raw.get() == r#"{"a":[1]}"#
    ));
    assert!(matches!(
        answer(r#"{"id":"x","error":{"code":1,"message":"m"},"jsonrpc":"2.0"}"#),
        (Some(id), Answer::Error(_)) if id == r#""x""#
    ));
    for malformed in [
        r#"{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"m"},"id":1}"#,
        r#"{"jsonrpc":"2.0","id":1}"#,
        r#"{"jsonrpc":"1.0","result":1,"id":1}"#,
        r#"{"jsonrpc":"2.0","result":1,"result":2,"id":1}"#,
    ] {
        assert!(
            matches!(answer(malformed), (Some(_), Answer::Malformed(_))),
            "{malformed}"
        );
    }
    // A repeated id answers nothing; as a request, it is what it was before.
    assert!(matches!(
        answer(r#"{"jsonrpc":"2.0","result":1,"id":1,"id":2}"#),
        (None, _)
    ));
    assert_eq!(
        invalid_id(r#"{"jsonrpc":"2.0","result":1,"id":4}"#).as_deref(),
        Some("4")
    );
}
