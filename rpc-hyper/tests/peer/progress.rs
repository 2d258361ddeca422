//! Progress: reported in the connection's dialect for a request that gave a token, not at
//! all otherwise, and dropped once the call has ended.

use rpc_core::{rpc_method, Dialect, Progress, State};
use serde_json::json;

use super::{start, App};

/// Counts to `n`, reporting each step; answers whether it had a reporter.
#[rpc_method]
pub(super) async fn count(n: u32, progress: Option<Progress>) -> bool {
    for i in 1..=n {
        if let Some(progress) = &progress {
            progress.report(f64::from(i), Some(f64::from(n)), Some("counting"));
        }
        tokio::task::yield_now().await;
    }
    progress.is_some()
}

/// Keeps its reporter past its end.
#[rpc_method]
pub(super) fn keep(app: State<'_, App>, progress: Option<Progress>) -> bool {
    let had = progress.is_some();
    *app.kept.lock().expect("not poisoned") = progress;
    had
}

/// Reports through the kept reporter: whether the report went.
#[rpc_method]
pub(super) fn late(app: State<'_, App>) -> bool {
    let kept = app.kept.lock().expect("not poisoned").clone();
    kept.is_some_and(|progress| progress.report(1.0, None, None))
}

#[tokio::test]
async fn mcp_progress_goes_before_the_answer_for_a_request_with_a_token() {
    let (mut other, _server, _) = start(|s| s.dialect(Dialect::Mcp));
    other
        .send(r#"{"jsonrpc":"2.0","method":"count","params":{"n":2,"_meta":{"progressToken":"t1"}},"id":1}"#)
        .await;
    for step in [1.0, 2.0] {
        assert_eq!(
            other.next().await,
            Some(
                json!({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t1","progress":step,"total":2.0,"message":"counting"}})
            )
        );
    }
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":true,"id":1}))
    );
    // No token, no reporter; a token that is no short string or number, none either.
    other
        .send(r#"{"jsonrpc":"2.0","method":"count","params":{"n":2},"id":2}"#)
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":false,"id":2}))
    );
    let long = "x".repeat(1024 * 1024);
    for token in [format!(r#""{long}""#), "{\"a\":1}".to_owned()] {
        other
            .send(&format!(
                r#"{{"jsonrpc":"2.0","method":"count","params":{{"n":1,"_meta":{{"progressToken":{token}}}}},"id":3}}"#
            ))
            .await;
        assert_eq!(
            other.next().await,
            Some(json!({"jsonrpc":"2.0","result":false,"id":3}))
        );
    }
}

#[tokio::test]
async fn lsp_progress_begins_reports_and_ends_before_the_answer() {
    let (mut other, _server, _) = start(|s| s.dialect(Dialect::Lsp));
    other
        .send(r#"{"jsonrpc":"2.0","method":"count","params":{"n":2,"workDoneToken":5},"id":1}"#)
        .await;
    let progress =
        |value| json!({"jsonrpc":"2.0","method":"$/progress","params":{"token":5,"value":value}});
    assert_eq!(
        other.next().await,
        Some(progress(
            json!({"kind":"begin","title":"count","percentage":50,"message":"counting"})
        ))
    );
    assert_eq!(
        other.next().await,
        Some(progress(
            json!({"kind":"report","percentage":100,"message":"counting"})
        ))
    );
    assert_eq!(other.next().await, Some(progress(json!({"kind":"end"}))));
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":true,"id":1}))
    );
}

#[tokio::test]
async fn reports_after_the_answer_and_without_a_dialect_go_nowhere() {
    let (mut other, _server, _) = start(|s| s.dialect(Dialect::Mcp));
    other
        .send(r#"{"jsonrpc":"2.0","method":"keep","params":{"_meta":{"progressToken":7}},"id":1}"#)
        .await;
    assert_eq!(other.next().await.expect("an answer")["result"], true);
    other
        .send(r#"{"jsonrpc":"2.0","method":"late","id":2}"#)
        .await;
    // The report is refused: the next message is the answer.
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":false,"id":2}))
    );

    let (mut other, _server, _) = start(|s| s);
    other
        .send(r#"{"jsonrpc":"2.0","method":"count","params":{"n":1,"_meta":{"progressToken":1}},"id":1}"#)
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":false,"id":1}))
    );
}
