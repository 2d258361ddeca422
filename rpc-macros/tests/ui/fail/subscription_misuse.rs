use rpc_core::{rpc_method, rpc_subscription, Sink};
use std::borrow::Cow;

// Not async, and no sink.
#[rpc_subscription]
fn plain(from: u64) {
    let _ = from;
}

// Two sinks; a parameter borrowed from the request it outlives.
#[rpc_subscription(notification = "")]
async fn two(name: Cow<'_, str>, a: Sink<u64>, b: Sink<u64>) {
    let _ = (name, a, b);
}

/// A type that borrows.
#[derive(serde::Deserialize)]
pub struct Name<'a>(&'a str);

// Borrowed through a lifetime of its own.
#[rpc_subscription]
async fn borrowed(name: Name<'_>, sink: Sink<u64>) {
    let _ = (name.0, sink);
}

// A sink in a plain method.
#[rpc_method]
fn method(sink: Sink<u64>) {
    let _ = sink;
}

// An option of `#[rpc_method]` is not one of a subscription's, and the reverse.
#[rpc_subscription(unsubscribe = "stop", colour = "red")]
async fn options(sink: Sink<u64>) {
    let _ = sink;
}

#[rpc_method(notification = "x")]
fn not_for_methods() {}

fn main() {}
