//! Macro-generated parameter decoding: the fuzzer's bytes are the params of a method with
//! parameters of many types, by position or by name.
#![no_main]

mod common;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rpc_core::{rpc_method, Router};

/// Takes one of everything.
#[rpc_method]
#[allow(clippy::too_many_arguments)]
fn mixed(
    a: i64,
    #[rpc(rename = "bee")] b: Option<String>,
    c: Vec<u8>,
    d: bool,
    e: Option<f64>,
    f: std::borrow::Cow<'_, str>,
    g: Option<BTreeMap<String, i32>>,
    h: (u16, char),
) -> usize {
    let _ = (a, b, c, d, e, f, g, h);
    1
}

/// Takes nothing.
#[rpc_method]
fn nothing() -> u8 {
    0
}

static ROUTER: LazyLock<Router> = LazyLock::new(|| {
    let mut router = Router::new();
    router.register(mixed::method()).unwrap();
    router.register(nothing::method()).unwrap();
    router
});

fuzz_target!(|data: &[u8]| {
    let Ok(params) = std::str::from_utf8(data) else {
        return;
    };
    for method in ["mixed", "nothing"] {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"{method}","params":{params},"id":1}}"#);
        common::check_answer(common::now(ROUTER.handle(body.as_bytes())));
    }
});
