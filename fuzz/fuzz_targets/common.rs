//! Shared by the fuzz targets: drive the dispatcher without a runtime, and check what it says.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde_json::value::RawValue;

/// Runs a dispatch whose methods never wait (the targets register no waiting method).
#[allow(dead_code)]
pub fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a method without waits was pending"),
    }
}

/// An answer must be one well-formed response, or a non-empty array of them. Read through raw
/// values and the strict `Response` type, not `serde_json::Value`: ids are echoed exactly, and
/// an id like `1e400` is valid JSON that `Value` cannot hold.
pub fn check_answer(answer: Option<Vec<u8>>) {
    let Some(answer) = answer else { return };
    let text = std::str::from_utf8(&answer).expect("answers are UTF-8");
    let items: Vec<&RawValue> = if text.starts_with('[') {
        serde_json::from_str(text).expect("a batch answer is a JSON array")
    } else {
        vec![serde_json::from_str(text).expect("an answer is JSON")]
    };
    assert!(!items.is_empty(), "an empty batch answer");
    for item in items {
        let response: Result<rpc_core::Response<'_>, _> = serde_json::from_str(item.get());
        assert!(
            response.is_ok(),
            "not a well-formed response: {}",
            item.get()
        );
    }
}
