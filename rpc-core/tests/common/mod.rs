//! A router for tests, and helpers to call it and read what it answers.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rpc_core::{ErrorObject, Method, Params, Router};
use serde::Deserialize;
use serde_json::Value;

/// What the test methods share: a log of the notifications they ran.
#[derive(Default)]
pub struct Log {
    pub entries: Mutex<Vec<String>>,
    pub calls: AtomicUsize,
}

impl Log {
    pub fn push(&self, entry: impl Into<String>) {
        self.entries.lock().unwrap().push(entry.into());
    }

    pub fn entries(&self) -> Vec<String> {
        self.entries.lock().unwrap().clone()
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Subtract {
    ByPosition(i64, i64),
    ByName { minuend: i64, subtrahend: i64 },
}

/// The sync methods of [`spec_router`], alone.
pub fn sync_spec_router() -> Router<Log> {
    let mut router = Router::with_state(Log::default());
    router
        .register(Method::new_sync(
            "subtract",
            |log: &Log, params: Params<'_>| {
                log.calls.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ErrorObject>(match params.parse()? {
                    Subtract::ByPosition(a, b) => a - b,
                    Subtract::ByName {
                        minuend,
                        subtrahend,
                    } => minuend - subtrahend,
                })
            },
        ))
        .unwrap()
        .register(Method::new_sync("sum", |_: &Log, params: Params<'_>| {
            Ok::<_, ErrorObject>(params.parse::<Vec<i64>>()?.iter().sum::<i64>())
        }))
        .unwrap()
        .register(Method::new_sync(
            "update",
            |log: &Log, params: Params<'_>| {
                log.push(format!("update {}", params.raw().unwrap_or("-")));
                Ok::<_, ErrorObject>(())
            },
        ))
        .unwrap()
        .register(Method::new_sync(
            "notify_hello",
            |log: &Log, params: Params<'_>| {
                log.push(format!("notify_hello {}", params.raw().unwrap_or("-")));
                Ok::<_, ErrorObject>(())
            },
        ))
        .unwrap()
        .register(Method::new_sync(
            "notify_sum",
            |log: &Log, params: Params<'_>| {
                let sum: i64 = params.parse::<Vec<i64>>()?.iter().sum();
                log.push(format!("notify_sum {sum}"));
                Ok::<_, ErrorObject>(sum)
            },
        ))
        .unwrap()
        .register(Method::new_sync("get_data", |_: &Log, _: Params<'_>| {
            Ok::<_, ErrorObject>(("hello", 5))
        }))
        .unwrap()
        .register(Method::new_sync("fail", |log: &Log, _: Params<'_>| {
            log.push("fail");
            Err::<(), _>(ErrorObject::invalid_params("always fails"))
        }))
        .unwrap()
        .register(Method::new_sync(
            "panic",
            |log: &Log, _: Params<'_>| -> Result<(), ErrorObject> {
                log.push("panic");
                panic!("secret detail /etc/passwd")
            },
        ))
        .unwrap();
    router
}

/// The methods of the JSON-RPC 2.0 specification's examples, plus a few for edge cases.
pub fn spec_router() -> Router<Log> {
    let mut router = sync_spec_router();
    router
        .register(Method::new_async(
            "async_panic",
            |_: &Log, _: Params<'_>| {
                Box::pin(async { panic!("secret async detail") as Result<(), ErrorObject> })
            },
        ))
        .unwrap()
        .register(Method::new_async(
            "log_async",
            |log: &Log, params: Params<'_>| {
                Box::pin(async move {
                    tokio::task::yield_now().await;
                    log.push(format!("log_async {}", params.raw().unwrap_or("-")));
                    Ok::<_, ErrorObject>("logged")
                })
            },
        ))
        .unwrap()
        .register(Method::new_async(
            "panic_early",
            |_: &Log, _: Params<'_>| -> rpc_core::BoxFuture<'_, Result<(), ErrorObject>> {
                panic!("before any future exists")
            },
        ))
        .unwrap()
        .register(Method::new_async(
            "echo_later",
            |_: &Log, params: Params<'_>| {
                Box::pin(async move {
                    let (value, millis): (Value, u64) = params.parse()?;
                    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
                    Ok::<_, ErrorObject>(value)
                })
            },
        ))
        .unwrap();
    router
}

/// Runs `body` through the router on a fresh runtime.
pub fn call<S: Send + Sync + 'static>(router: &Router<S>, body: &str) -> Option<String> {
    call_bytes(router, body.as_bytes())
}

/// Like [`call`], for bodies that are not UTF-8.
pub fn call_bytes<S: Send + Sync + 'static>(router: &Router<S>, body: &[u8]) -> Option<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime
        .block_on(router.handle(body))
        .map(|bytes| String::from_utf8(bytes).expect("responses are UTF-8"))
}

/// The response as a JSON value, checking it parses.
pub fn json(response: &str) -> Value {
    serde_json::from_str(response).unwrap_or_else(|err| panic!("not JSON ({err}): {response}"))
}

/// The response with the optional `data` member of error objects removed, for comparing with
/// the specification's examples, which leave it out.
pub fn without_error_data(mut value: Value) -> Value {
    fn strip(response: &mut Value) {
        if let Some(error) = response.get_mut("error").and_then(Value::as_object_mut) {
            error.remove("data");
        }
    }
    match &mut value {
        Value::Array(items) => items.iter_mut().for_each(strip),
        other => strip(other),
    }
    value
}

/// The error code of a single response.
pub fn error_code(response: &str) -> i64 {
    json(response)["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error response: {response}"))
}
