//! The connection engine's loop itself, over a stream: the fuzzer's bytes are split into lines
//! (at each 0xFF byte) and written newline-framed to a server whose methods call back, run in
//! order, report progress and may be cancelled (LSP dialect), with one call's place and two
//! peer requests, so that messages park behind calls that await this side. This side answers
//! each request of the server's (a result, an error or a malformed answer, as the request's
//! number says), then closes its writing half.
//!
//! Checked: no panic; every line the server writes is a well-formed answer or a well-formed
//! request or notification, its requests' ids each used once; and the connection ends: the
//! half-close is answered and the engine stops within a time limit (no deadlock, whatever was
//! parked or held the barrier).
#![no_main]

mod common;

use std::collections::HashSet;
use std::future::IntoFuture;
use std::sync::LazyLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rpc_core::{rpc_method, Dialect, ErrorObject, Peer, Progress, Router, State};
use rpc_hyper::stream;
use serde_json::value::RawValue;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Asks this side to double `n`.
#[rpc_method]
async fn ask(peer: Peer, n: i64) -> Result<i64, ErrorObject> {
    Ok(peer.request("double", [n]).await?)
}

/// Tells this side `n`, without waiting for room.
#[rpc_method]
fn tell(peer: Peer, n: i64) -> bool {
    peer.try_notify("told", [n]).is_ok()
}

/// A notification handled after a pause: later messages wait behind it.
#[rpc_method]
async fn note(state: State<'_, std::sync::Mutex<Vec<i64>>>, n: i64) {
    tokio::task::yield_now().await;
    if let Ok(mut log) = state.lock() {
        log.push(n);
        log.truncate(64);
    }
}

/// Runs alone.
#[rpc_method(ordered)]
async fn set(state: State<'_, std::sync::Mutex<Vec<i64>>>, n: i64) -> usize {
    tokio::task::yield_now().await;
    state
        .lock()
        .map(|mut log| {
            log.push(n);
            log.truncate(64);
            log.len()
        })
        .unwrap_or(0)
}

/// Waits `ms` (at most 3) milliseconds, reporting progress when asked to.
#[rpc_method]
async fn wait(ms: u64, progress: Option<Progress>) -> u64 {
    let ms = ms.min(3);
    for step in 0..ms {
        if let Some(progress) = &progress {
            progress.report(step as f64, Some(ms as f64), None);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    ms
}

/// Adds, at once.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

static ROUTER: LazyLock<std::sync::Arc<Router<std::sync::Mutex<Vec<i64>>>>> = LazyLock::new(|| {
    let mut router = Router::with_state(std::sync::Mutex::new(Vec::new()));
    for method in [
        ask::method(),
        tell::method(),
        note::method(),
        set::method(),
        wait::method(),
        add::method(),
    ] {
        router.register(method).expect("distinct names");
    }
    std::sync::Arc::new(router)
});

/// How long one input may take before the engine counts as stuck: far more than its calls
/// need (each waits 3 ms at most, and this side answers every request at once).
const LIMIT: Duration = Duration::from_secs(10);

fuzz_target!(|data: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (ours, theirs) = tokio::io::duplex(4096);
        let server = stream::serve_io(theirs, std::sync::Arc::clone(&ROUTER))
            .dialect(Dialect::Lsp)
            .max_calls_in_flight(1)
            .max_peer_requests(2)
            // A request whose answer sits behind a full parked queue waits this long at most.
            .peer_request_timeout(Duration::from_millis(200))
            .max_message_size(16 * 1024);
        let server = tokio::spawn(server.into_future());
        let (read, mut write) = tokio::io::split(ours);
        let (answers, mut to_send) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        // This side reads what the server writes, and answers its requests.
        let reader = tokio::spawn(async move {
            let mut lines = BufReader::new(read).lines();
            let mut ids = HashSet::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(answer) = check(&line, &mut ids) {
                    let _ = answers.send(answer);
                }
            }
        });
        let writer = async move {
            let mut lines = data.split(|&b| b == 0xFF).peekable();
            loop {
                tokio::select! {
                    biased;
                    Some(answer) = to_send.recv() => {
                        if write.write_all(&answer).await.is_err() {
                            return;
                        }
                    }
                    () = std::future::ready(()), if lines.peek().is_some() => {
                        let line = lines.next().unwrap_or_default();
                        if write.write_all(line).await.is_err() || write.write_all(b"\n").await.is_err() {
                            return;
                        }
                    }
                    else => break,
                }
                if lines.peek().is_none() && to_send.is_empty() {
                    // Answer what is asked until the server is quiet for a moment, then close
                    // this side's half.
                    loop {
                        tokio::select! {
                            Some(answer) = to_send.recv() => {
                                if write.write_all(&answer).await.is_err() {
                                    return;
                                }
                            }
                            () = tokio::time::sleep(Duration::from_millis(1)) => break,
                        }
                    }
                    let _ = write.shutdown().await;
                    return;
                }
            }
        };
        let ended = tokio::time::timeout(LIMIT, async {
            writer.await;
            let _ = server.await;
            let _ = reader.await;
        })
        .await;
        assert!(ended.is_ok(), "the engine did not end after the half-close");
    });
});

/// Checks one line the server wrote; the answer to it, when it is a request of the server's.
fn check(line: &str, ids: &mut HashSet<String>) -> Option<Vec<u8>> {
    #[derive(serde::Deserialize)]
    struct Message<'a> {
        #[serde(borrow)]
        method: Option<&'a RawValue>,
        #[serde(borrow)]
        id: Option<&'a RawValue>,
        #[serde(borrow)]
        jsonrpc: Option<&'a RawValue>,
    }
    let text = line.trim_start();
    if !text.starts_with('{') {
        common::check_answer(Some(line.as_bytes().to_vec()));
        return None;
    }
    let message: Message<'_> = serde_json::from_str(text).expect("a line is a JSON object");
    if message.method.is_none() {
        common::check_answer(Some(line.as_bytes().to_vec()));
        return None;
    }
    assert_eq!(
        message.jsonrpc.map(RawValue::get),
        Some(r#""2.0""#),
        "{line}"
    );
    let id = message.id?.get().to_owned();
    assert!(ids.insert(id.clone()), "the server used id {id} twice");
    let n: u64 = id.parse().expect("the server's ids are numbers");
    let answer = match n % 4 {
        0 => format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":1,"message":"no"}}}}"#),
        1 => format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{n},"error":null}}"#),
        _ => format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{n}}}"#),
    };
    Some(format!("{answer}\n").into_bytes())
}
