//! Bad input on a Unix-socket server, per framing: garbage, broken headers, huge and deep
//! messages, invalid UTF-8, byte-by-byte writes, a client that writes and never reads. Each
//! gets a clear error or an orderly close, and the server keeps serving everyone else.
#![cfg(all(feature = "ipc", unix))]

use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rpc_core::{rpc_method, Router};
use rpc_hyper::stream::{serve_ipc, Framing, IpcListener};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

const STEP: Duration = Duration::from_secs(10);

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// A string of `len` bytes.
#[rpc_method]
fn big(len: usize) -> String {
    "x".repeat(len.min(1 << 20))
}

const ADD: &str = r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#;

/// Invalid UTF-8 in the id, and in the params.
const BAD_ID: &[u8] =
    b"{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],\"id\":\"\xc3\x28\"}";
const BAD_PARAMS: &[u8] =
    b"{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[\"\xff\"],\"id\":1}";

/// Stops its server and removes its socket's directory when dropped.
struct Stop {
    _stop: tokio::sync::oneshot::Sender<()>,
    dir: PathBuf,
}

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A server of `framing` on a fresh socket path, with a short send timeout.
async fn start(framing: Framing) -> (PathBuf, Stop) {
    let dir = std::env::temp_dir().join(format!(
        "rpc-bad-{}-{framing:?}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.ipc");
    let router = router();
    let listener = IpcListener::bind(&path).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = serve_ipc(listener, router)
        .framing(framing)
        .send_timeout(Duration::from_millis(500))
        .with_graceful_shutdown(async {
            stopped.await.ok();
        });
    tokio::spawn(server.into_future());
    (path, Stop { _stop: stop, dir })
}

/// `text` as one message of `framing`.
fn frame(framing: Framing, text: &[u8]) -> Vec<u8> {
    match framing {
        Framing::ContentLength => {
            let mut framed = format!("Content-Length: {}\r\n\r\n", text.len()).into_bytes();
            framed.extend_from_slice(text);
            framed
        }
        _ => [text, b"\n"].concat(),
    }
}

/// The next answer of `framing`, or `None` once the server has closed.
async fn answer(read: &mut BufReader<impl AsyncRead + Unpin>, framing: Framing) -> Option<Value> {
    let mut line = String::new();
    let read_line = tokio::time::timeout(STEP, read.read_line(&mut line));
    if read_line
        .await
        .expect("an answer or the end in time")
        .ok()?
        == 0
    {
        return None;
    }
    if framing == Framing::ContentLength {
        let len: usize = line
            .strip_prefix("Content-Length: ")
            .and_then(|len| len.trim().parse().ok())
            .unwrap_or_else(|| panic!("a Content-Length header: {line:?}"));
        let mut blank = String::new();
        read.read_line(&mut blank).await.unwrap();
        assert_eq!(blank, "\r\n");
        let mut body = vec![0; len];
        read.read_exact(&mut body).await.unwrap();
        return Some(serde_json::from_slice(&body).unwrap());
    }
    Some(serde_json::from_str(&line).unwrap())
}

/// Sends `bad` on a connection, in pieces of `piece` bytes (the writing may fail once the
/// server has closed), then a good call; what came back, up to the end.
async fn send_bad(path: &Path, framing: Framing, bad: Vec<u8>, piece: usize) -> Vec<Value> {
    let stream = UnixStream::connect(path).await.unwrap();
    let (read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        for chunk in bad.chunks(piece) {
            if write.write_all(chunk).await.is_err() {
                return;
            }
        }
        let _ = write.write_all(&frame(framing, ADD.as_bytes())).await;
        let _ = write.shutdown().await;
    });
    let mut read = BufReader::new(read);
    let mut answers = Vec::new();
    while let Some(answer) = answer(&mut read, framing).await {
        answers.push(answer);
    }
    tokio::time::timeout(STEP, writer).await.unwrap().unwrap();
    answers
}

/// Another client is served as usual.
async fn still_serves(path: &Path, framing: Framing) {
    let stream = UnixStream::connect(path).await.unwrap();
    let (read, mut write) = stream.into_split();
    write
        .write_all(&frame(framing, ADD.as_bytes()))
        .await
        .unwrap();
    let answer = answer(&mut BufReader::new(read), framing).await.unwrap();
    assert_eq!(answer["result"], 5);
}

/// The error code the dispatcher itself answers `body` with (as it does over HTTP).
fn dispatcher_code(body: &[u8]) -> i64 {
    let answer = router().handle_sync(body).unwrap().unwrap();
    serde_json::from_slice::<Value>(&answer).unwrap()["error"]["code"]
        .as_i64()
        .unwrap()
}

fn router() -> Router {
    let mut router = Router::new();
    router.register(add::method()).unwrap();
    router.register(big::method()).unwrap();
    router
}

fn codes(answers: &[Value]) -> Vec<i64> {
    answers
        .iter()
        .map(|answer| answer["error"]["code"].as_i64().unwrap_or(0))
        .collect()
}

/// 100,000 brackets deep.
fn deep() -> Vec<u8> {
    let mut deep = b"{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":".to_vec();
    deep.extend(std::iter::repeat_n(b'[', 100_000));
    deep.extend(std::iter::repeat_n(b']', 100_000));
    deep.extend_from_slice(b",\"id\":1}");
    deep
}

/// Garbage that cannot begin a JSON value: no newline, quote or bracket in it.
fn garbage(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i * 7919 % 251) as u8)
        .map(|b| if b"\n\"{}[]\r".contains(&b) { b'#' } else { b })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newline_answers_each_bad_line_and_goes_on() {
    let framing = Framing::Newline;
    let (path, _stop) = start(framing).await;
    // Garbage in one line: -32700, then the call.
    let mut bad = garbage(64 * 1024);
    bad.push(b'\n');
    assert_eq!(
        codes(&send_bad(&path, framing, bad, 4096).await),
        [-32700, 0]
    );
    // A line of 11 MiB: refused without being held, -32600 with id null; then the call.
    let mut huge = vec![b'x'; 11 << 20];
    huge.push(b'\n');
    let answers = send_bad(&path, framing, huge, 1 << 16).await;
    assert_eq!(codes(&answers), [-32600, 0]);
    assert_eq!(answers[0]["id"], Value::Null);
    // Invalid UTF-8 and 100,000 levels of nesting: not JSON the dispatcher takes (in the
    // params, the answer is the dispatcher's own, as over HTTP).
    assert_eq!(
        codes(&send_bad(&path, framing, frame(framing, BAD_ID), 4096).await),
        [dispatcher_code(BAD_ID), 0]
    );
    assert_eq!(
        codes(&send_bad(&path, framing, frame(framing, BAD_PARAMS), 4096).await),
        [dispatcher_code(BAD_PARAMS), 0]
    );
    let deep_line = frame(framing, &deep());
    assert_eq!(
        codes(&send_bad(&path, framing, deep_line, 4096).await),
        [dispatcher_code(&deep()), 0]
    );
    // A call in 1-byte writes.
    let answers = send_bad(&path, framing, frame(framing, ADD.as_bytes()), 1).await;
    assert_eq!(codes(&answers), [0, 0]);
    still_serves(&path, framing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concatenated_answers_each_bad_value_and_goes_on() {
    let framing = Framing::Concatenated;
    let (path, _stop) = start(framing).await;
    // Garbage outside any value: -32700, once per run of it, then the call.
    assert_eq!(
        codes(&send_bad(&path, framing, garbage(64 * 1024), 4096).await),
        [-32700, 0]
    );
    // A value of 11 MiB: dropped as it comes, -32600; then the call.
    let mut huge = b"{\"a\":\"".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 11 << 20));
    huge.extend_from_slice(b"\"}");
    assert_eq!(
        codes(&send_bad(&path, framing, huge, 1 << 16).await),
        [-32600, 0]
    );
    assert_eq!(
        codes(&send_bad(&path, framing, BAD_ID.to_vec(), 4096).await),
        [dispatcher_code(BAD_ID), 0]
    );
    assert_eq!(
        codes(&send_bad(&path, framing, BAD_PARAMS.to_vec(), 4096).await),
        [dispatcher_code(BAD_PARAMS), 0]
    );
    assert_eq!(
        codes(&send_bad(&path, framing, deep(), 4096).await),
        [dispatcher_code(&deep()), 0]
    );
    let answers = send_bad(&path, framing, ADD.as_bytes().repeat(3), 1).await;
    assert_eq!(codes(&answers), [0, 0, 0, 0]);
    still_serves(&path, framing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_length_closes_on_a_broken_header_and_serves_the_others() {
    let framing = Framing::ContentLength;
    let (path, _stop) = start(framing).await;
    let mut huge_header = b"Content-Length: 2\r\nX-Pad: ".to_vec();
    huge_header.extend(std::iter::repeat_n(b'a', 1 << 20));
    huge_header.extend_from_slice(b"\r\n\r\n{}");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", garbage(64 * 1024)),
        (
            "a header with no end",
            b"Content-Length: 5\r\nContent-Type: x".repeat(1000),
        ),
        (
            "a negative length",
            b"Content-Length: -1\r\n\r\n{}".to_vec(),
        ),
        (
            "a length over the limit",
            b"Content-Length: 99999999999\r\n\r\n{}".to_vec(),
        ),
        ("a header of 1 MiB", huge_header),
        (
            "another charset",
            b"Content-Type: text/plain; charset=latin1\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
        ),
    ];
    for (what, bad) in cases {
        // Closed at once: not even the call after it is answered.
        let answers = send_bad(&path, framing, bad, 4096).await;
        assert!(answers.is_empty(), "{what}: {answers:?}");
        still_serves(&path, framing).await;
    }
    // Within the framing, bad content gets its answer and the connection goes on.
    assert_eq!(
        codes(&send_bad(&path, framing, frame(framing, BAD_ID), 4096).await),
        [dispatcher_code(BAD_ID), 0]
    );
    assert_eq!(
        codes(&send_bad(&path, framing, frame(framing, BAD_PARAMS), 4096).await),
        [dispatcher_code(BAD_PARAMS), 0]
    );
    assert_eq!(
        codes(&send_bad(&path, framing, frame(framing, &deep()), 4096).await),
        [dispatcher_code(&deep()), 0]
    );
    let answers = send_bad(&path, framing, frame(framing, ADD.as_bytes()), 1).await;
    assert_eq!(codes(&answers), [0, 0]);
    still_serves(&path, framing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_writes_and_never_reads_is_cut_off_and_the_others_go_on() {
    for framing in [
        Framing::Newline,
        Framing::ContentLength,
        Framing::Concatenated,
    ] {
        let (path, _stop) = start(framing).await;
        let mut flood = UnixStream::connect(&path).await.unwrap();
        // Calls whose answers are 1 MiB each, written for as long as the server reads them.
        let call = frame(
            framing,
            br#"{"jsonrpc":"2.0","method":"big","params":[1048576],"id":1}"#,
        );
        let flooding = tokio::spawn(async move {
            let started = std::time::Instant::now();
            while started.elapsed() < Duration::from_secs(20) {
                if flood.write_all(&call).await.is_err() {
                    return true;
                }
            }
            false
        });
        // Meanwhile another client is served.
        for _ in 0..5 {
            still_serves(&path, framing).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let cut_off = tokio::time::timeout(Duration::from_secs(25), flooding)
            .await
            .unwrap()
            .unwrap();
        assert!(cut_off, "{framing:?}: the flood was cut off");
        still_serves(&path, framing).await;
    }
}
