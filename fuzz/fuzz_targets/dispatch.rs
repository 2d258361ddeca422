//! Raw bytes into the dispatcher: never a panic, and every answer well-formed JSON-RPC.
#![no_main]

mod common;

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rpc_core::{rpc_method, ErrorObject, Router};

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> Result<i64, ErrorObject> {
    a.checked_add(b)
        .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
}

/// Echoes, asynchronously (without waiting).
#[rpc_method]
async fn echo(value: serde_json::Value, times: Option<u8>) -> Vec<serde_json::Value> {
    vec![value; usize::from(times.unwrap_or(1).min(4))]
}

static ROUTER: LazyLock<Router> = LazyLock::new(|| {
    let mut router = Router::new().max_batch_len(64);
    router.register(add::method()).unwrap();
    router.register(echo::method()).unwrap();
    router
        .discover(rpc_core::openrpc::Info::new("fuzz", "1"))
        .unwrap();
    router
});

fuzz_target!(|data: &[u8]| {
    common::check_answer(common::now(ROUTER.handle(data)));
});
