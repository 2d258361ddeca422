//! The calculator's methods declared for a crate that only calls them: signatures without
//! bodies, from which `#[rpc_method]` and `#[rpc_subscription]` make the client stubs alone
//! (rpc-core's `client` feature). This crate compiles nothing of the server: it depends on
//! `rpc-core` and `serde_json` only, not on the calculator, its state or its dependencies. A
//! client sends the stubs with any client (`rpc-hyper`'s, with its `client` feature).
//!
//! The declarations repeat the server's signatures, so a test in the examples crate
//! (`examples/tests/calc_api.rs`) checks that each stub here builds the very request the
//! server's own stub builds: a declaration that drifts from the server fails it.
//!
//! ```
//! let call = rpc_calc_api::add::call(2, 3);
//! assert_eq!(call.method(), "add");
//! ```

use rpc_core::{rpc_method, rpc_subscription, Sink};

/// Adds two integers.
#[rpc_method]
pub fn add(a: i64, b: i64) -> i64;

/// Subtracts `b` from `a`.
#[rpc_method]
pub fn subtract(a: i64, b: i64) -> i64;

/// Multiplies two integers.
#[rpc_method]
pub fn multiply(a: i64, b: i64) -> i64;

/// Divides `a` by `b`, as a float.
#[rpc_method]
pub fn divide(a: i64, b: i64) -> f64;

/// Counts down from `from` to 0, one number every `interval_ms` milliseconds (at most 60,000).
#[rpc_subscription]
pub async fn countdown(from: u64, interval_ms: u64, sink: Sink<u64>);

/// Every later successful calculation, by any client.
#[rpc_subscription]
pub async fn results(sink: Sink<serde_json::Value>);
