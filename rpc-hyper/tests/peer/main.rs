//! Both ends are peers: a method asks the side that called it, over a byte stream, and the
//! engine keeps reading so that the answer reaches it, whatever the call bound; the ids of the
//! two directions stay apart; the time limit, a closed connection, error answers, malformed
//! ones and stray ones each end a request as documented. The other side here is a scripted
//! newline client, so that every byte it sends is the test's.
#![cfg(feature = "stream")]

mod both;
mod calls;
mod cancel;
mod order;
mod progress;

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use rpc_core::{rpc_method, ErrorObject, Peer, PeerError, Router, State};
use rpc_hyper::stream::{self, Framing};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// The longest any single step of a test may take.
const STEP: Duration = Duration::from_secs(10);

/// What the methods report of their requests to the peer, and what the ordering tests watch.
struct App {
    outcomes: mpsc::UnboundedSender<String>,
    /// What `note` and `set` did, in the order they did it.
    log: std::sync::Mutex<Vec<i64>>,
    /// What `gate` waits for.
    gate: tokio::sync::Semaphore,
    /// A reporter kept past its call's end.
    kept: std::sync::Mutex<Option<rpc_core::Progress>>,
}

/// Asks the caller to double `n`, and answers what it said.
#[rpc_method]
async fn ask(peer: Peer, n: i64) -> Result<i64, ErrorObject> {
    Ok(peer.request("double", [n]).await?)
}

/// Asks the caller to double `n`, and reports how the request ended.
#[rpc_method]
async fn probe(app: State<'_, App>, peer: Peer, n: i64) -> &'static str {
    let outcome: Result<i64, PeerError> = peer.request("double", [n]).await;
    let report = match outcome {
        Ok(doubled) => format!("ok {doubled}"),
        Err(PeerError::TimedOut(limit)) => format!("timed out {}", limit.as_millis()),
        Err(PeerError::Answered(error)) => format!(
            "answered {} {} {}",
            error.code(),
            error.message(),
            error.data().map_or("-", |data| data.get())
        ),
        Err(other) => format!("{other:?}"),
    };
    let _ = app.outcomes.send(report);
    "done"
}

/// Sleeps `ms`, then answers it: a call to cancel.
#[rpc_method]
async fn wait(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

/// Asks the caller to double 0..n, all at once; answers what it said, in order.
#[rpc_method]
async fn fan(peer: Peer, n: i64) -> Result<Vec<i64>, ErrorObject> {
    let asks = (0..n).map(|i| {
        let peer = peer.clone();
        async move { peer.request::<i64, _>("double", [i]).await }
    });
    let answers = futures_util::future::join_all(asks).await;
    Ok(answers.into_iter().collect::<Result<_, _>>()?)
}

/// Tells the caller something, and answers at once.
#[rpc_method]
async fn tell(peer: Peer) -> Result<bool, ErrorObject> {
    peer.notify("told", json!({"what": "news"})).await?;
    Ok(true)
}

fn router() -> (Arc<Router<App>>, mpsc::UnboundedReceiver<String>) {
    let (outcomes, reports) = mpsc::unbounded_channel();
    let mut router = Router::with_state(App {
        outcomes,
        log: std::sync::Mutex::default(),
        gate: tokio::sync::Semaphore::new(0),
        kept: std::sync::Mutex::default(),
    });
    router
        .register(ask::method())
        .and_then(|r| r.register(probe::method()))
        .and_then(|r| r.register(tell::method()))
        .and_then(|r| r.register(fan::method()))
        .and_then(|r| r.register(wait::method()))
        .and_then(|r| r.register(order::note::method()))
        .and_then(|r| r.register(order::set::method()))
        .and_then(|r| r.register(order::get::method()))
        .and_then(|r| r.register(order::gate::method()))
        .and_then(|r| r.register(progress::count::method()))
        .and_then(|r| r.register(progress::keep::method()))
        .and_then(|r| r.register(progress::late::method()))
        .and_then(|r| r.register(both::hold::method()))
        .and_then(|r| r.register(cancel::spin::method()))
        .expect("distinct names");
    (Arc::new(router), reports)
}

type Read = tokio::io::ReadHalf<tokio::io::DuplexStream>;
type Write = tokio::io::WriteHalf<tokio::io::DuplexStream>;
type Server = stream::StreamServer<stream::Io<Read, Write>, App>;

/// The scripted other side.
struct Other {
    read: BufReader<Read>,
    write: Option<Write>,
    /// The server's router, to see its state.
    router: Arc<Router<App>>,
}

impl Other {
    async fn send(&mut self, text: &str) {
        let write = self.write.as_mut().expect("open");
        tokio::time::timeout(STEP, write.write_all(format!("{text}\n").as_bytes()))
            .await
            .expect("written in time")
            .expect("written");
    }

    /// Closes this side's writing half: the end of its messages.
    async fn close(&mut self) {
        let mut write = self.write.take().expect("open");
        write.shutdown().await.expect("shut down");
    }

    /// The next message; `None` at the end of the stream.
    async fn next(&mut self) -> Option<Value> {
        let mut line = String::new();
        let n = tokio::time::timeout(STEP, self.read.read_line(&mut line))
            .await
            .expect("a message in time")
            .ok()?;
        (n > 0).then(|| serde_json::from_str(&line).expect("JSON"))
    }

    /// Answers a `double` request of the server.
    async fn answer_double(&mut self, request: &Value) {
        assert_eq!(request["method"], "double", "{request}");
        let n = request["params"][0].as_i64().expect("a number");
        let answer = json!({"jsonrpc": "2.0", "result": n * 2, "id": request["id"]});
        self.send(&answer.to_string()).await;
    }
}

/// A server on an in-memory duplex, set up by `configure`; its other side; and the reports.
fn start(
    configure: impl FnOnce(Server) -> Server,
) -> (
    Other,
    tokio::task::JoinHandle<std::io::Result<()>>,
    mpsc::UnboundedReceiver<String>,
) {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(theirs);
    let (router, reports) = router();
    let server = stream::serve(read, write, Arc::clone(&router)).framing(Framing::Newline);
    let server = tokio::spawn(configure(server).into_future());
    let (read, write) = tokio::io::split(ours);
    let other = Other {
        read: BufReader::new(read),
        write: Some(write),
        router,
    };
    (other, server, reports)
}

async fn report(reports: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(STEP, reports.recv())
        .await
        .expect("a report in time")
        .expect("a report")
}
