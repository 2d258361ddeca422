//! The order a connection keeps: notifications are handled in the order they came, each
//! before any later message starts; an ordered method runs alone, after what came before it;
//! other requests run concurrently.

use std::time::Duration;

use rpc_core::{rpc_method, State};
use serde_json::json;

use super::{start, App};

/// Waits `ms`, then logs `n`: a notification whose handling takes time.
#[rpc_method]
pub(super) async fn note(app: State<'_, App>, n: i64, ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    app.log.lock().expect("not poisoned").push(n);
}

/// Logs `n`, alone on its connection.
#[rpc_method(ordered)]
pub(super) async fn set(app: State<'_, App>, n: i64) -> i64 {
    app.log.lock().expect("not poisoned").push(n);
    n
}

/// What was logged.
#[rpc_method]
pub(super) fn get(app: State<'_, App>) -> Vec<i64> {
    app.log.lock().expect("not poisoned").clone()
}

/// Waits for a permit of the gate, then answers `n`.
#[rpc_method]
pub(super) async fn gate(app: State<'_, App>, n: i64) -> i64 {
    app.gate.acquire().await.expect("open").forget();
    n
}

#[tokio::test]
async fn notifications_are_handled_in_order_each_before_any_later_message() {
    let (mut other, _server, _) = start(|s| s);
    // The first takes longest: run concurrently, they would end in another order, and the
    // request behind them would see fewer.
    for (n, ms) in [(0, 80), (1, 0), (2, 30)] {
        other
            .send(&format!(
                r#"{{"jsonrpc":"2.0","method":"note","params":[{n},{ms}]}}"#
            ))
            .await;
    }
    other
        .send(r#"{"jsonrpc":"2.0","method":"get","id":1}"#)
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":[0,1,2],"id":1}))
    );
}

#[tokio::test]
async fn an_ordered_method_runs_alone_and_other_requests_stay_concurrent() {
    let (mut other, _server, _) = start(|s| s);
    // Two requests that wait run at once: both hold the gate, and one permit answers one.
    other
        .send(r#"{"jsonrpc":"2.0","method":"gate","params":[1],"id":"g1"}"#)
        .await;
    other
        .send(r#"{"jsonrpc":"2.0","method":"gate","params":[2],"id":"g2"}"#)
        .await;
    // The ordered call waits for both; the read-only call behind it waits for it.
    other
        .send(r#"{"jsonrpc":"2.0","method":"set","params":[7],"id":"set"}"#)
        .await;
    other
        .send(r#"{"jsonrpc":"2.0","method":"get","id":"get"}"#)
        .await;
    // Time for `set` and `get` to run, were they not held.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let state = std::sync::Arc::clone(&other.router);
    let state = state.state();
    state.gate.add_permits(1);
    let first = other.next().await.expect("an answer");
    assert!(first["id"] == "g1" || first["id"] == "g2", "{first}");
    state.gate.add_permits(1);
    let second = other.next().await.expect("an answer");
    assert_ne!(first["id"], second["id"]);
    assert!(second["id"] == "g1" || second["id"] == "g2", "{second}");
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":7,"id":"set"}))
    );
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":[7],"id":"get"}))
    );
}
