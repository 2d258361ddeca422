//! The decoding matrix: both param shapes × required/optional × valid, missing, extra, wrong
//! type and null, for sync and async methods; state, renames, returns and error conversion.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use rpc_core::{rpc_method, ErrorObject, FromState, Router, State};
use serde_json::{json, Value};

#[rpc_method]
fn pair(a: i64, b: Option<i64>) -> (i64, Option<i64>) {
    (a, b)
}

#[rpc_method]
async fn pair_async(a: i64, b: Option<i64>) -> (i64, Option<i64>) {
    tokio::task::yield_now().await;
    (a, b)
}

#[rpc_method]
fn nothing() -> &'static str {
    "ok"
}

#[rpc_method]
async fn nothing_async() -> &'static str {
    "ok"
}

#[rpc_method]
fn ping() {}

#[rpc_method(name = "math.subtract")]
fn subtract(#[rpc(rename = "minuend")] a: i64, #[rpc(rename = "subtrahend")] b: i64) -> i64 {
    a - b
}

/// A search, as the whole params.
#[derive(serde::Deserialize, Debug)]
struct Filter {
    prefix: String,
    limit: Option<u32>,
    /// A nested struct keeps serde's own rules.
    #[serde(default)]
    sort: Sort,
}

#[derive(serde::Deserialize, Debug, Default)]
struct Sort {
    descending: bool,
}

/// Echoes a filter given as the whole params.
#[rpc_method]
fn find(#[rpc(params)] filter: Filter, app: State<'_, App>) -> Value {
    let _ = &app.hits;
    json!([filter.prefix, filter.limit, filter.sort.descending])
}

/// The same, async.
#[rpc_method]
async fn find_later(#[rpc(params)] filter: Filter) -> Value {
    json!([filter.prefix, filter.limit, filter.sort.descending])
}

/// A filter, if one is given, as the whole params.
#[rpc_method]
fn find_maybe(#[rpc(params)] filter: Option<Filter>) -> Value {
    filter.map_or(Value::Null, |filter| {
        json!([filter.prefix, filter.limit, filter.sort.descending])
    })
}

/// A filter wrapped in a newtype, as the whole params.
#[derive(serde::Deserialize, Debug)]
struct Wrapped(Filter);

/// Echoes a wrapped filter.
#[rpc_method]
fn find_wrapped(#[rpc(params)] filter: Wrapped) -> Value {
    json!([filter.0.prefix, filter.0.limit])
}

/// Upper-cases its text, and says whether it was borrowed from the request.
#[rpc_method]
fn echo(text: Cow<'_, str>) -> (String, bool) {
    (text.to_uppercase(), matches!(text, Cow::Borrowed(_)))
}

/// An owned `Cow`, left to serde.
#[rpc_method]
fn echo_static(text: Cow<'static, str>) -> String {
    text.into_owned()
}

/// The same, with `Cow` written without its lifetime (which the 2018 idioms lint frowns on).
#[allow(elided_lifetimes_in_paths)]
#[rpc_method]
fn echo_elided(text: Cow<str>) -> String {
    text.into_owned()
}

#[rpc_method]
fn r#type(r#in: u8) -> u8 {
    r#in
}

struct App {
    hits: AtomicU64,
    name: Name,
}

struct Name(&'static str);

impl FromState<App> for Name {
    fn from_state(app: &App) -> &Self {
        &app.name
    }
}

#[rpc_method]
fn hit(by: u64, app: State<'_, App>) -> u64 {
    app.hits.fetch_add(by, Ordering::SeqCst) + by
}

#[rpc_method]
async fn hit_async(app: State<'_, App>, by: u64) -> u64 {
    tokio::task::yield_now().await;
    app.hits.fetch_add(by, Ordering::SeqCst) + by
}

#[rpc_method]
fn whoami(name: State<'_, Name>) -> &'static str {
    name.0
}

#[derive(Debug, thiserror::Error)]
enum AccountError {
    #[error("account {0} not found")]
    NotFound(u32),
    #[error("account {account} is short by {missing}")]
    Insufficient { account: u32, missing: u64 },
}

impl From<AccountError> for ErrorObject {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::NotFound(_) => ErrorObject::new(404, err.to_string()),
            AccountError::Insufficient { missing, .. } => {
                ErrorObject::new(1001, err.to_string()).with_data(missing)
            }
        }
    }
}

type AccountResult<T> = Result<T, AccountError>;

#[rpc_method]
fn withdraw(account: u32, amount: u64) -> AccountResult<u64> {
    match account {
        1 if amount <= 10 => Ok(10 - amount),
        1 => Err(AccountError::Insufficient {
            account,
            missing: amount - 10,
        }),
        _ => Err(AccountError::NotFound(account)),
    }
}

#[rpc_method]
async fn withdraw_async(account: u32, amount: u64) -> Result<u64, AccountError> {
    withdraw(account, amount)
}

#[rpc_method]
fn checked(a: i64) -> Result<i64, ErrorObject> {
    a.checked_mul(2)
        .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
}

fn router() -> Router<App> {
    let mut router = Router::with_state(App {
        hits: AtomicU64::new(0),
        name: Name("calculator"),
    });
    router
        .register(pair::method())
        .and_then(|r| r.register(pair_async::method()))
        .and_then(|r| r.register(nothing::method()))
        .and_then(|r| r.register(nothing_async::method()))
        .and_then(|r| r.register(ping::method()))
        .and_then(|r| r.register(subtract::method()))
        .and_then(|r| r.register(echo::method()))
        .and_then(|r| r.register(find::method()))
        .and_then(|r| r.register(find_later::method()))
        .and_then(|r| r.register(find_maybe::method()))
        .and_then(|r| r.register(find_wrapped::method()))
        .and_then(|r| r.register(echo_elided::method()))
        .and_then(|r| r.register(echo_static::method()))
        .and_then(|r| r.register(r#type::method()))
        .and_then(|r| r.register(hit::method()))
        .and_then(|r| r.register(hit_async::method()))
        .and_then(|r| r.register(whoami::method()))
        .and_then(|r| r.register(withdraw::method()))
        .and_then(|r| r.register(withdraw_async::method()))
        .and_then(|r| r.register(checked::method()))
        .unwrap();
    router
}

/// Calls `method` with `params` (JSON text, or `None` for no params member) and returns the
/// result, or the error's data (or the whole error object when it has no data).
fn call(router: &Router<App>, method: &str, params: Option<&str>) -> Result<Value, Value> {
    let params = params
        .map(|p| format!(r#","params":{p}"#))
        .unwrap_or_default();
    let body = format!(r#"{{"jsonrpc":"2.0","method":"{method}"{params},"id":1}}"#);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let response = runtime
        .block_on(router.handle(body.as_bytes()))
        .expect("a call is answered");
    let mut response: Value = serde_json::from_slice(&response).unwrap();
    match response.get_mut("error") {
        Some(error) => Err(error.get("data").cloned().unwrap_or_else(|| error.take())),
        None => Ok(response["result"].take()),
    }
}

fn invalid(data: &str) -> Result<Value, Value> {
    Err(json!(data))
}

#[test]
fn positional_and_named_params_both_decode_sync_and_async() {
    let router = router();
    let cases: &[(&str, Result<Value, Value>)] = &[
        // By position.
        ("[1, 2]", Ok(json!([1, 2]))),
        ("[1]", Ok(json!([1, null]))),
        ("[1, null]", Ok(json!([1, null]))),
        ("[]", invalid(r#"missing parameter "a""#)),
        (
            "[null]",
            invalid(r#"parameter "a": invalid type: null, expected i64"#),
        ),
        (
            "[null, 2]",
            invalid(r#"parameter "a": invalid type: null, expected i64"#),
        ),
        ("[1, 2, 3]", invalid("expected at most 2 parameters, got 3")),
        (
            "[1, 2, 3, [4]]",
            invalid("expected at most 2 parameters, got 4"),
        ),
        (
            r#"["1"]"#,
            invalid(r#"parameter "a": invalid type: string "1", expected i64"#),
        ),
        (
            r#"[1, "x"]"#,
            invalid(r#"parameter "b": invalid type: string "x", expected i64"#),
        ),
        (
            "[1.5]",
            invalid(r#"parameter "a": invalid type: floating point `1.5`, expected i64"#),
        ),
        (
            "[9223372036854775808]",
            invalid(r#"parameter "a": invalid value: integer `9223372036854775808`, expected i64"#),
        ),
        // By name.
        (r#"{"a": 1, "b": 2}"#, Ok(json!([1, 2]))),
        (r#"{"b": 2, "a": 1}"#, Ok(json!([1, 2]))),
        (r#"{"a": 1}"#, Ok(json!([1, null]))),
        (r#"{"a": 1, "b": null}"#, Ok(json!([1, null]))),
        (r#"{"b": 2}"#, invalid(r#"missing parameter "a""#)),
        ("{}", invalid(r#"missing parameter "a""#)),
        (
            r#"{"a": null}"#,
            invalid(r#"parameter "a": invalid type: null, expected i64"#),
        ),
        (r#"{"a": 1, "c": 3}"#, invalid(r#"unknown parameter "c""#)),
        (r#"{"A": 1}"#, invalid(r#"unknown parameter "A""#)),
        (
            r#"{"a": "1"}"#,
            invalid(r#"parameter "a": invalid type: string "1", expected i64"#),
        ),
        (
            r#"{"a": 1, "b": [2]}"#,
            invalid(r#"parameter "b": invalid type: sequence, expected i64"#),
        ),
        (
            r#"{"a": 1, "a": 2}"#,
            invalid(r#"parameter "a": given twice"#),
        ),
        (r#"{"\u0061": 1}"#, Ok(json!([1, null]))),
        // No params at all.
        ("null", invalid(r#"missing parameter "a""#)),
    ];
    for method in ["pair", "pair_async"] {
        for (params, expected) in cases {
            assert_eq!(
                &call(&router, method, Some(params)),
                expected,
                "{method} {params}"
            );
        }
        assert_eq!(
            call(&router, method, None),
            invalid(r#"missing parameter "a""#),
            "{method}"
        );
    }
}

#[test]
fn a_method_without_parameters_takes_none_an_empty_array_or_an_empty_object() {
    let router = router();
    for method in ["nothing", "nothing_async"] {
        for params in [None, Some("null"), Some("[]"), Some("{}")] {
            assert_eq!(
                call(&router, method, params),
                Ok(json!("ok")),
                "{method} {params:?}"
            );
        }
        assert_eq!(
            call(&router, method, Some("[1]")),
            invalid("expected at most 0 parameters, got 1")
        );
        assert_eq!(
            call(&router, method, Some(r#"{"x":1}"#)),
            invalid(r#"unknown parameter "x""#)
        );
    }
    assert_eq!(call(&router, "ping", None), Ok(Value::Null), "() is null");
}

#[test]
fn renamed_methods_and_parameters() {
    let router = router();
    assert_eq!(
        call(
            &router,
            "math.subtract",
            Some(r#"{"subtrahend": 23, "minuend": 42}"#)
        ),
        Ok(json!(19))
    );
    assert_eq!(
        call(&router, "math.subtract", Some("[42, 23]")),
        Ok(json!(19))
    );
    assert_eq!(
        call(&router, "math.subtract", Some(r#"{"a": 42, "b": 23}"#)),
        invalid(r#"unknown parameter "a""#)
    );
    assert_eq!(
        call(&router, "math.subtract", Some(r#"{"minuend": 42}"#)),
        invalid(r#"missing parameter "subtrahend""#)
    );
    assert!(router.method_info("subtract").is_none());
    // Raw identifiers lose their `r#` on the wire.
    assert_eq!(call(&router, "type", Some(r#"{"in": 7}"#)), Ok(json!(7)));
}

#[test]
fn borrowed_string_parameters_borrow_from_the_request() {
    let router = router();
    assert_eq!(
        call(&router, "echo", Some(r#"["abc"]"#)),
        Ok(json!(["ABC", true]))
    );
    // A string with escapes cannot be borrowed: it is decoded into an owned one.
    assert_eq!(
        call(&router, "echo", Some(r#"{"text": "h\u00e9\n"}"#)),
        Ok(json!(["HÉ\n", false]))
    );
    assert_eq!(
        call(&router, "echo_elided", Some(r#"["h\u00e9"]"#)),
        Ok(json!("hé"))
    );
    assert_eq!(
        call(&router, "echo_static", Some(r#"["hi"]"#)),
        Ok(json!("hi"))
    );
    // A wrong type names no lifetime, only what was expected.
    assert_eq!(
        call(&router, "echo", Some("[5]")),
        invalid(r#"parameter "text": invalid type: integer `5`, expected a string"#)
    );
}

#[test]
fn state_parameters_receive_the_router_state_and_are_not_on_the_wire() {
    let router = router();
    assert_eq!(call(&router, "hit", Some("[2]")), Ok(json!(2)));
    assert_eq!(
        call(&router, "hit_async", Some(r#"{"by": 3}"#)),
        Ok(json!(5))
    );
    assert_eq!(
        call(&router, "hit", Some(r#"{"by": 1, "app": 1}"#)),
        invalid(r#"unknown parameter "app""#)
    );
    assert_eq!(call(&router, "whoami", None), Ok(json!("calculator")));
    assert_eq!(router.state().hits.load(Ordering::SeqCst), 5);
    let info = router.method_info("hit").unwrap();
    assert_eq!(
        info.params
            .iter()
            .map(|p| p.name.as_ref())
            .collect::<Vec<_>>(),
        ["by"]
    );
}

#[test]
fn result_errors_convert_into_error_objects_through_from() {
    let router = router();
    for method in ["withdraw", "withdraw_async"] {
        assert_eq!(call(&router, method, Some("[1, 4]")), Ok(json!(6)));
        assert_eq!(call(&router, method, Some("[1, 15]")), Err(json!(5)));
        assert_eq!(
            call(&router, method, Some("[2, 1]")),
            Err(json!({"code": 404, "message": "account 2 not found"}))
        );
    }
    assert_eq!(
        call(&router, "checked", Some("[4611686018427387904]")),
        invalid("integer overflow")
    );
    assert_eq!(call(&router, "checked", Some("[21]")), Ok(json!(42)));
}

#[test]
fn functions_stay_callable_as_ordinary_rust() {
    assert_eq!(pair(1, None), (1, None));
    assert_eq!(subtract(42, 23), 19);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(pair_async(3, Some(4))), (3, Some(4)));
    assert!(matches!(withdraw(9, 1), Err(AccountError::NotFound(9))));
}

#[test]
fn metadata_records_docs_names_types_and_optionality() {
    let router = router();
    let info = router.method_info("pair").unwrap();
    assert_eq!(info.params[0].ty, "i64");
    assert_eq!(info.params[1].ty, "Option<i64>");
    assert!(!info.params[0].optional && info.params[1].optional);
    assert_eq!(info.result.as_deref(), Some("(i64, Option<i64>)"));
    assert!(router.method_info("pair_async").unwrap().is_async);
    let info = router.method_info("math.subtract").unwrap();
    assert_eq!(
        info.params
            .iter()
            .map(|p| p.name.as_ref())
            .collect::<Vec<_>>(),
        ["minuend", "subtrahend"]
    );
    assert_eq!(
        router.method_info("ping").unwrap().result.as_deref(),
        Some("()")
    );
    assert_eq!(
        router.method_info("echo").unwrap().params[0].ty,
        "Cow<'_, str>"
    );
}

/// Doc comments are kept,
/// line by line.
#[rpc_method]
fn documented() {}

#[test]
fn doc_comments_become_the_method_doc() {
    let mut router = Router::new();
    router.register(documented::method()).unwrap();
    assert_eq!(
        router.method_info("documented").unwrap().doc,
        "Doc comments are kept,\nline by line."
    );
}

#[test]
fn a_struct_can_be_the_whole_params_by_name_or_by_position_and_stays_strict() {
    let router = router();
    let found =
        |prefix: &str, limit: Option<u32>, descending: bool| Ok(json!([prefix, limit, descending]));
    for method in ["find", "find_later"] {
        let cases: &[(&str, Result<Value, Value>)] = &[
            (r#"{"prefix": "a", "limit": 2}"#, found("a", Some(2), false)),
            (
                r#"{"prefix": "a", "sort": {"descending": true}}"#,
                found("a", None, true),
            ),
            (r#"["b", 3]"#, found("b", Some(3), false)),
            (
                r#"{"prefix": "a", "limt": 2}"#,
                invalid(r#"unknown parameter "limt""#),
            ),
            (r#"{"limit": 2}"#, invalid(r#"missing parameter "prefix""#)),
            (
                r#"{"prefix": 5}"#,
                invalid(r#"parameter "prefix": invalid type: integer `5`, expected a string"#),
            ),
            (
                r#"{"prefix": "a", "prefix": "b"}"#,
                invalid(r#"parameter "prefix": given twice"#),
            ),
            (
                r#"["a", 1, {"descending": true}, 4]"#,
                invalid("expected at most 3 parameters, got 4"),
            ),
        ];
        for (params, expected) in cases {
            assert_eq!(
                &call(&router, method, Some(params)),
                expected,
                "{method} {params}"
            );
        }
        // No params: the struct from nothing, which needs its required fields.
        assert_eq!(
            call(&router, method, None),
            invalid(r#"missing parameter "prefix""#)
        );
    }
    let info = router.method_info("find").unwrap();
    assert_eq!(info.params.len(), 1);
    assert_eq!(info.params[0].name, "filter");
    assert!(info.params[0].whole);
}

#[test]
fn an_optional_or_wrapped_struct_as_the_whole_params_is_as_strict_as_a_bare_one() {
    let router = router();
    let cases: &[(&str, Option<&str>, Result<Value, Value>)] = &[
        ("find_maybe", None, Ok(Value::Null)),
        (
            "find_maybe",
            Some(r#"{"prefix": "a", "limit": 2}"#),
            Ok(json!(["a", 2, false])),
        ),
        (
            "find_maybe",
            Some(r#"["b", 3]"#),
            Ok(json!(["b", 3, false])),
        ),
        (
            "find_maybe",
            Some(r#"{"prefix": "a", "limt": 2}"#),
            invalid(r#"unknown parameter "limt""#),
        ),
        (
            "find_maybe",
            Some(r#"{"prefix": 5}"#),
            invalid(r#"parameter "prefix": invalid type: integer `5`, expected a string"#),
        ),
        (
            "find_maybe",
            Some(r#"["a", 1, {"descending": true}, 4]"#),
            invalid("expected at most 3 parameters, got 4"),
        ),
        (
            "find_wrapped",
            Some(r#"{"prefix": "a", "limit": 2}"#),
            Ok(json!(["a", 2])),
        ),
        (
            "find_wrapped",
            Some(r#"{"prefix": "a", "colour": 2}"#),
            invalid(r#"unknown parameter "colour""#),
        ),
    ];
    for (method, params, expected) in cases {
        assert_eq!(
            &call(&router, method, *params),
            expected,
            "{method} {params:?}"
        );
    }
    let info = router.method_info("find_maybe").unwrap();
    assert_eq!(info.params.len(), 1);
    assert_eq!(info.params[0].name, "filter");
    assert!(info.params[0].whole);
}
