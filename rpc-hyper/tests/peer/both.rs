//! Both ends ours: the calling side of a stream (`stream::connect`, `StreamServer::connect`)
//! serves a router too, answers what the server asks with its own methods, -32601 without
//! them, takes the server's notifications, and cancels what it gives up on.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use rpc_core::{rpc_method, Dialect, ErrorObject, PeerError, Router, State};
use rpc_hyper::stream;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{report, router, App, STEP};

/// Waits for ever; tells the server's reports when it starts and when its call is dropped.
#[rpc_method]
pub(super) async fn hold(app: State<'_, App>) -> bool {
    struct Dropped(mpsc::UnboundedSender<String>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            let _ = self.0.send("hold dropped".into());
        }
    }
    let _dropped = Dropped(app.outcomes.clone());
    let _ = app.outcomes.send("hold started".into());
    std::future::pending::<()>().await;
    true
}

/// The calling side's state: what the server told it.
struct Told(mpsc::UnboundedSender<Value>);

/// Doubles `n`, for the server.
#[rpc_method]
fn double(n: i64) -> i64 {
    n * 2
}

/// What the server tells.
#[rpc_method]
fn told(state: State<'_, Told>, what: Value) {
    let _ = state.0.send(what);
}

/// A server of the harness's router on one end of a duplex, and the other end's halves.
fn pair(
    configure: impl FnOnce(super::Server) -> super::Server,
) -> (
    tokio::io::ReadHalf<tokio::io::DuplexStream>,
    tokio::io::WriteHalf<tokio::io::DuplexStream>,
    mpsc::UnboundedReceiver<String>,
) {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(theirs);
    let (router, reports) = router();
    tokio::spawn(configure(stream::serve(read, write, router)).into_future());
    let (read, write) = tokio::io::split(ours);
    (read, write, reports)
}

#[tokio::test]
async fn the_calling_side_answers_the_server_with_its_own_methods_and_takes_its_notifications() {
    let (read, write, _) = pair(|s| s);
    let (sender, mut told_us) = mpsc::unbounded_channel();
    let mut ours = Router::with_state(Told(sender));
    ours.register(double::method())
        .and_then(|r| r.register(told::method()))
        .expect("distinct names");
    let connection = stream::serve(read, write, Arc::new(ours)).connect();
    let peer = connection.peer().clone();
    // The server's `ask` asks us to double: our `double` answers.
    let asked: i64 = peer.request("ask", [21]).await.expect("an answer");
    assert_eq!(asked, 42);
    // A notification from the server reaches our `told`.
    let told_answer: bool = peer.request("tell", ()).await.expect("an answer");
    assert!(told_answer);
    let what = tokio::time::timeout(STEP, told_us.recv())
        .await
        .expect("in time");
    assert_eq!(what, Some(json!("news")));
    // Many at once, each its own answer.
    let asks = (0..50).map(|n| {
        let peer = peer.clone();
        async move { peer.request::<i64, _>("ask", [n]).await }
    });
    let answers = futures_util::future::join_all(asks).await;
    for (n, answer) in answers.into_iter().enumerate() {
        assert_eq!(answer.expect("an answer"), 2 * n as i64);
    }
    tokio::time::timeout(STEP, connection.close())
        .await
        .expect("closes in time")
        .expect("closes cleanly");
    // Once closed, the handle fails at once.
    let after: Result<i64, PeerError> = peer.request("ask", [1]).await;
    assert!(matches!(after, Err(PeerError::Closed)), "{after:?}");
}

#[tokio::test]
async fn without_a_router_the_calling_side_answers_method_not_found() {
    let (read, write, _) = pair(|s| s);
    let connection = stream::connect(read, write).connect();
    let asked: Result<i64, PeerError> = connection.peer().request("ask", [21]).await;
    // The server's request to us was answered -32601, which its `ask` passed on.
    let error = asked.expect_err("no `double` here");
    let error: ErrorObject = error.answered().expect("answered").clone();
    assert_eq!(error.code(), -32601, "{error:?}");
}

#[tokio::test]
async fn a_request_the_calling_side_gives_up_on_is_cancelled_on_the_server() {
    let (read, write, mut reports) = pair(|s| s.dialect(Dialect::Lsp));
    let connection = stream::connect(read, write).dialect(Dialect::Lsp).connect();
    let held: Result<bool, PeerError> = connection
        .peer()
        .request("hold", ())
        .timeout(Duration::from_millis(100))
        .await;
    assert!(matches!(held, Err(PeerError::TimedOut(_))), "{held:?}");
    // The server got `$/cancelRequest` and dropped the call.
    assert_eq!(report(&mut reports).await, "hold started");
    assert_eq!(report(&mut reports).await, "hold dropped");
    // Dropping a request's future cancels it the same way.
    let peer = connection.peer().clone();
    let dropped = tokio::time::timeout(Duration::from_millis(100), async move {
        peer.request::<bool, _>("hold", ()).await
    })
    .await;
    assert!(dropped.is_err(), "still waiting when dropped");
    assert_eq!(report(&mut reports).await, "hold started");
    assert_eq!(report(&mut reports).await, "hold dropped");
}

#[tokio::test]
async fn closing_the_calling_side_waits_for_the_answers_to_what_it_asked() {
    let (read, write, _) = pair(|s| s);
    let connection = stream::connect(read, write).connect();
    let peer = connection.peer().clone();
    let asked = tokio::spawn(async move { peer.request::<u64, _>("wait", [150]).await });
    // Sent, and not answered yet, when the connection is closed.
    tokio::time::sleep(Duration::from_millis(30)).await;
    tokio::time::timeout(STEP, connection.close())
        .await
        .expect("closes in time")
        .expect("closes cleanly");
    let answer = tokio::time::timeout(STEP, asked).await.expect("in time");
    assert_eq!(answer.expect("no panic").expect("answered"), 150);
}
