//! The client stubs the attributes generate (rpc-core's `client` feature): names, params by
//! name with renames and optional ones left out, local params left out, and result types.
//! The functions themselves are only reached through their stubs here.
#![allow(dead_code)]

use std::borrow::Cow;

use rpc_core::{
    rpc_method, rpc_subscription, write_request, ErrorObject, Ext, Sink, State, TypedCall,
};

struct Db;

#[derive(Clone)]
struct User;

/// Adds.
#[rpc_method]
fn add(a: i64, b: i64) -> Result<i64, ErrorObject> {
    Ok(a + b)
}

/// Everything at once.
#[rpc_method(name = "math.scale")]
async fn scale(
    db: State<'_, Db>,
    user: Option<Ext<'_, User>>,
    #[rpc(rename = "by")] factor: f64,
    label: Option<Cow<'_, str>>,
    value: f64,
) -> String {
    let _ = (db, user);
    format!("{}{}", label.unwrap_or_default(), value * factor)
}

/// Borrowed result.
#[rpc_method]
fn name() -> &'static str {
    "calc"
}

#[derive(serde::Serialize, serde::Deserialize, Debug)]
struct Range {
    from: u64,
    to: u64,
}

/// Whole params.
#[rpc_method]
fn span(#[rpc(params)] range: Range) -> u64 {
    range.to - range.from
}

/// Counts down.
#[rpc_subscription]
async fn countdown(from: u64, interval_ms: Option<u64>, sink: Sink<u64>) {
    let _ = (from, interval_ms, sink);
}

fn request<P: serde::Serialize, R>(call: &TypedCall<P, R>) -> String {
    let mut out = Vec::new();
    write_request(&mut out, call.method(), call.params(), Some(1)).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn a_call_goes_by_name_with_the_wire_names() {
    let call: TypedCall<_, i64> = add::call(2, 3);
    assert_eq!(
        request(&call),
        r#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#
    );
    let call: TypedCall<_, String> = scale::call(2.0, Some("x".into()), 1.5);
    assert_eq!(
        request(&call),
        r#"{"jsonrpc":"2.0","method":"math.scale","params":{"by":2.0,"label":"x","value":1.5},"id":1}"#
    );
    // An absent optional param is left out.
    assert_eq!(
        request(&scale::call(2.0, None, 1.5)),
        r#"{"jsonrpc":"2.0","method":"math.scale","params":{"by":2.0,"value":1.5},"id":1}"#
    );
    let call: TypedCall<_, String> = name::call();
    assert_eq!(
        request(&call),
        r#"{"jsonrpc":"2.0","method":"name","params":{},"id":1}"#
    );
    let call: TypedCall<Range, u64> = span::call(Range { from: 1, to: 4 });
    assert_eq!(
        request(&call),
        r#"{"jsonrpc":"2.0","method":"span","params":{"from":1,"to":4},"id":1}"#
    );
}

#[test]
fn a_subscription_stub_names_its_three_methods() {
    let sub: rpc_core::TypedSubscription<_, u64> = countdown::subscribe(5, Some(100));
    assert_eq!(sub.subscribe_method(), "subscribe_countdown");
    assert_eq!(sub.unsubscribe_method(), "unsubscribe_countdown");
    assert_eq!(sub.notification(), "countdown");
    let mut out = Vec::new();
    write_request(&mut out, sub.subscribe_method(), sub.params(), Some(2)).unwrap();
    assert_eq!(
        out,
        br#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":{"from":5,"interval_ms":100},"id":2}"#
    );
}

/// A crate that only calls the service declares its methods, without bodies: only the stubs
/// are generated, and nothing of the server is compiled.
mod declared {
    use rpc_core::{rpc_method, rpc_subscription, Sink};

    /// Adds two integers.
    #[rpc_method]
    pub fn add(a: i64, b: i64) -> i64;

    /// Divides, by name.
    #[rpc_method(name = "math.divide")]
    pub fn divide(#[rpc(rename = "dividend")] a: i64, b: Option<i64>) -> Result<f64, String>;

    /// Counts down.
    #[rpc_subscription]
    pub async fn countdown(from: u64, interval_ms: u64, sink: Sink<u64>);
}

#[test]
fn declarations_make_the_same_stubs_without_a_body() {
    let call: TypedCall<_, i64> = declared::add::call(2, 3);
    assert_eq!(
        request(&call),
        request(&add::call(2, 3)),
        "the same request as the implemented method's stub"
    );
    let call: TypedCall<_, f64> = declared::divide::call(6, None);
    assert_eq!(
        request(&call),
        r#"{"jsonrpc":"2.0","method":"math.divide","params":{"dividend":6},"id":1}"#
    );
    let sub: rpc_core::TypedSubscription<_, u64> = declared::countdown::subscribe(5, 10);
    assert_eq!(sub.subscribe_method(), "subscribe_countdown");
}

/// A filter the server reads but never writes: not `Serialize`.
#[derive(serde::Deserialize)]
struct Filter {
    name: String,
}

/// A server method whose optional param cannot be serialized still compiles with the
/// `client` feature on; only its stub could not be called.
#[rpc_method]
fn find(filter: Option<Filter>, #[rpc(rename = "max")] most: u32) -> usize {
    filter.map_or(0, |f| f.name.len()).min(most as usize)
}

#[test]
fn a_server_whose_param_types_are_not_serialize_still_compiles() {
    let method = find::method::<()>();
    assert_eq!(method.info().name, "find");
}
