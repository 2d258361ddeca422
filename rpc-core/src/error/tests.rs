//! Error objects and codes: serialization, data, conversions.

use super::*;

fn json(err: &ErrorObject) -> String {
    serde_json::to_string(err).unwrap()
}

#[test]
fn spec_codes_and_messages_are_spelled_exactly() {
    assert_eq!(
        json(&ErrorObject::parse_error()),
        r#"{"code":-32700,"message":"Parse error"}"#
    );
    assert_eq!(
        json(&ErrorObject::invalid_request()),
        r#"{"code":-32600,"message":"Invalid Request"}"#
    );
    assert_eq!(
        json(&ErrorObject::method_not_found()),
        r#"{"code":-32601,"message":"Method not found"}"#
    );
    assert_eq!(
        json(&ErrorObject::invalid_params("division by zero")),
        r#"{"code":-32602,"message":"Invalid params","data":"division by zero"}"#
    );
    assert_eq!(
        json(&ErrorObject::internal_error()),
        r#"{"code":-32603,"message":"Internal error"}"#
    );
}

#[test]
fn server_and_application_codes() {
    let err = ErrorObject::server_error(-32001, "Overloaded");
    assert!(err.error_code().is_server_error());
    assert_eq!(json(&err), r#"{"code":-32001,"message":"Overloaded"}"#);
    assert_eq!(ErrorObject::from_code(-32050).message(), "Server error");
    assert_eq!(ErrorObject::from_code(7).message(), "Application error");
    assert!(!ErrorCode::new(-31999).is_server_error());
    assert!(!ErrorCode::new(-32100).is_server_error());
    assert!(ErrorCode::new(-32100).is_reserved());
    let app = ErrorObject::new(4, "no such account").with_data(serde_json::json!({"id": 9}));
    assert_eq!(
        json(&app),
        r#"{"code":4,"message":"no such account","data":{"id":9}}"#
    );
}

#[test]
fn unserializable_data_is_dropped_not_panicked() {
    let mut map = std::collections::HashMap::new();
    map.insert(vec![1u8], 2);
    let err = ErrorObject::invalid_params(map);
    assert!(err.data().is_none());
    assert_eq!(err.code(), -32602);
}

#[test]
fn round_trips_through_json_and_keeps_null_data_apart_from_absent() {
    let with_null: ErrorObject =
        serde_json::from_str(r#"{"code":1,"message":"m","data":null}"#).unwrap();
    assert_eq!(with_null.data().map(RawValue::get), Some("null"));
    let without: ErrorObject = serde_json::from_str(r#"{"message":"m","code":1}"#).unwrap();
    assert!(without.data().is_none());
    assert_ne!(with_null, without);
    let err = ErrorObject::invalid_params([1, 2]);
    let back: ErrorObject = serde_json::from_str(&json(&err)).unwrap();
    assert_eq!(back, err);
    assert_eq!(back.data_as::<Vec<u8>>().unwrap().unwrap(), vec![1, 2]);
    assert!(serde_json::from_str::<ErrorObject>(r#"{"code":1}"#).is_err());
    assert!(serde_json::from_str::<ErrorObject>(r#"{"code":1,"code":2,"message":""}"#).is_err());
}

#[test]
fn displays_message_and_code() {
    assert_eq!(
        ErrorObject::method_not_found().to_string(),
        "Method not found (code -32601)"
    );
}
