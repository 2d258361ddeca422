//! Cancellation both ways: LSP's style answers -32800, MCP's answers nothing, without a style
//! the notification is a call as any other; and a request this side gives up on is cancelled.

use std::time::Duration;

use rpc_core::{rpc_method, CancelToken, Dialect, State};
use serde_json::json;

use super::{report, start, App};

/// Spins on a blocking thread until its call is cancelled, then reports it; and a task
/// awaiting the token reports too.
#[rpc_method]
pub(super) async fn spin(app: State<'_, App>, cancel: CancelToken) -> bool {
    let watcher = cancel.clone();
    let outcomes = app.outcomes.clone();
    tokio::spawn(async move {
        watcher.cancelled().await;
        let _ = outcomes.send("awaited the cancel".into());
    });
    let outcomes = app.outcomes.clone();
    tokio::task::spawn_blocking(move || {
        // Bounded: a test must end even if the token never fires.
        for _ in 0..10_000 {
            if cancel.is_cancelled() {
                let _ = outcomes.send("saw the cancel".into());
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = outcomes.send("never cancelled".into());
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn lsp_cancellation_answers_the_cancelled_call_with_32800_even_with_every_place_taken() {
    let (mut other, _server, _) = start(|s| s.dialect(Dialect::Lsp).max_calls_in_flight(1));
    other
        .send(r#"{"jsonrpc":"2.0","method":"wait","params":[60000],"id":7}"#)
        .await;
    // An unknown id, and one that is not running, are passed over.
    other
        .send(r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":8}}"#)
        .await;
    other
        .send(r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"7"}}"#)
        .await;
    // The only place is taken by the call: the cancel is read and obeyed all the same.
    other
        .send(r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":7}}"#)
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":7}))
    );
    other
        .send(r#"{"jsonrpc":"2.0","method":"wait","params":[1],"id":9}"#)
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":1,"id":9}))
    );
}

#[tokio::test]
async fn mcp_cancellation_sends_no_answer_and_without_a_style_the_notification_is_a_call() {
    let (mut other, _server, mut reports) = start(|s| s.dialect(Dialect::Mcp));
    other
        .send(r#"{"jsonrpc":"2.0","method":"hold","id":"long"}"#)
        .await;
    // Once it runs (cancelled before it starts, it would never run, nor report its drop).
    assert_eq!(report(&mut reports).await, "hold started");
    other
        .send(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"long","reason":"no longer needed"}}"#)
        .await;
    // The call is dropped, and not answered: the next message is the next call's answer,
    // and nothing follows it.
    assert_eq!(report(&mut reports).await, "hold dropped");
    other
        .send(r#"{"jsonrpc":"2.0","method":"wait","params":[1],"id":"next"}"#)
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":1,"id":"next"}))
    );
    let more = tokio::time::timeout(Duration::from_millis(100), other.next()).await;
    assert!(more.is_err(), "an answer for the cancelled call: {more:?}");

    // Without cancellation set, `$/cancelRequest` is a method like any other: not found,
    // and its notification is not answered; the call runs to its end.
    let (mut other, _server, _) = start(|s| s);
    other
        .send(r#"{"jsonrpc":"2.0","method":"wait","params":[50],"id":1}"#)
        .await;
    other
        .send(r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1},"id":2}"#)
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":2}))
    );
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":50,"id":1}))
    );
}

#[tokio::test]
async fn a_request_given_up_on_is_cancelled_in_the_connections_style() {
    for (style, cancel) in [
        (
            Dialect::Lsp,
            json!({"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}),
        ),
        (
            Dialect::Mcp,
            json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"the request was given up on"}}),
        ),
    ] {
        let (mut other, _server, mut reports) = start(|s| {
            s.dialect(style)
                .peer_request_timeout(Duration::from_millis(100))
        });
        other
            .send(r#"{"jsonrpc":"2.0","method":"probe","params":[5],"id":"p"}"#)
            .await;
        assert_eq!(other.next().await.expect("a request")["id"], 1);
        // The time limit passes: the other side is told, before the call's answer.
        assert_eq!(other.next().await, Some(cancel));
        assert_eq!(report(&mut reports).await, "timed out 100");
        assert_eq!(
            other.next().await,
            Some(json!({"jsonrpc":"2.0","result":"done","id":"p"}))
        );
    }
}

#[tokio::test]
async fn without_a_style_a_request_given_up_on_is_only_forgotten() {
    let (mut other, _server, mut reports) =
        start(|s| s.peer_request_timeout(Duration::from_millis(100)));
    other
        .send(r#"{"jsonrpc":"2.0","method":"probe","params":[5],"id":"p"}"#)
        .await;
    other.next().await.expect("a request");
    assert_eq!(report(&mut reports).await, "timed out 100");
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":"done","id":"p"}))
    );
}

#[tokio::test]
async fn a_cancel_token_is_seen_by_the_work_a_method_hands_off() {
    let (mut other, _server, mut reports) = start(|s| s.dialect(Dialect::Lsp));
    other
        .send(r#"{"jsonrpc":"2.0","method":"spin","id":5}"#)
        .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    other
        .send(r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":5}}"#)
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":5}))
    );
    let mut seen = vec![report(&mut reports).await, report(&mut reports).await];
    seen.sort();
    assert_eq!(seen, ["awaited the cancel", "saw the cancel"]);
}

#[tokio::test]
async fn a_flood_of_cancels_for_ids_never_sent_is_passed_over() {
    let (mut other, _server, _) = start(|s| s.dialect(Dialect::Mcp));
    let flood: String = (0..10_000)
        .map(|n| {
            format!(r#"{{"jsonrpc":"2.0","method":"notifications/cancelled","params":{{"requestId":{n}}}}}"#)
                + "\n"
        })
        .collect();
    other.send(flood.trim_end()).await;
    other
        .send(r#"{"jsonrpc":"2.0","method":"wait","params":[1],"id":"after"}"#)
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":1,"id":"after"}))
    );
}

#[tokio::test]
async fn a_cancel_read_with_its_request_or_before_it_starts_still_cancels_it() {
    // The request and its cancel in one write: the cancel is read before the request's call
    // has started. And a second request parked behind the first is cancelled before it
    // starts: it starts cancelled.
    let (mut other, _server, _) = start(|s| s.dialect(Dialect::Lsp).max_calls_in_flight(1));
    other
        .send(concat!(
            r#"{"jsonrpc":"2.0","method":"wait","params":[60000],"id":7}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":7}}"#
        ))
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":7}))
    );
    other
        .send(concat!(
            r#"{"jsonrpc":"2.0","method":"wait","params":[200],"id":8}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"wait","params":[60000],"id":9}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":9}}"#
        ))
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":200,"id":8}))
    );
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":9}))
    );
}
