//! The MCP example over its stdio, byte by byte, for what an SDK hides: every line it writes
//! is one JSON-RPC message, a malformed line and a batch are answered and the session goes
//! on, a cancelled call is never answered, progress comes before the answer it belongs to,
//! and the end of stdin ends the process with status 0 once the calls in flight are answered;
//! and the README's session prints what the README shows.

use std::process::Stdio;
use std::time::Duration;

use rpc_tests::STEP;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_mcp");

struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Session {
    async fn start() -> Self {
        let mut child = Command::new(BINARY)
            // Every log line it can write: none may reach stdout.
            .env("RUST_LOG", "trace")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("starts");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let mut session = Self {
            child,
            stdin,
            stdout,
        };
        session
            .send(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#)
            .await;
        let answer = session.next().await.expect("an answer");
        assert_eq!(answer["result"]["protocolVersion"], "2025-11-25");
        session
            .send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await;
        session
    }

    async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("open");
        stdin.write_all(line.as_bytes()).await.expect("writes");
        stdin.write_all(b"\n").await.expect("writes");
    }

    /// The next line, which must be one JSON object; `None` at the end of stdout.
    async fn next(&mut self) -> Option<Value> {
        let line = tokio::time::timeout(STEP, self.stdout.next_line())
            .await
            .expect("a line in time")
            .expect("reads")?;
        let value: Value = serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("stdout carries only JSON-RPC: {line:?} ({err})"));
        assert_eq!(value["jsonrpc"], "2.0", "{line}");
        Some(value)
    }
}

#[tokio::test]
async fn a_malformed_line_and_a_batch_are_answered_and_the_session_goes_on() {
    let mut session = Session::start().await;
    session.send("{not json").await;
    let answer = session.next().await.expect("an answer");
    assert_eq!(answer["error"]["code"], -32700, "{answer}");
    assert_eq!(answer["id"], Value::Null);
    session
        .send(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#)
        .await;
    let answer = session.next().await.expect("an answer");
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    assert_eq!(answer["id"], Value::Null);
    session
        .send(r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#)
        .await;
    let answer = session.next().await.expect("an answer");
    assert_eq!(answer, json!({"jsonrpc": "2.0", "id": 3, "result": {}}));
}

#[tokio::test]
async fn a_cancelled_call_is_not_answered_and_progress_comes_before_its_answer() {
    let mut session = Session::start().await;
    let countdown = |id: u32, count: u32| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
            "name": "countdown",
            "arguments": {"count": count, "interval_ms": 20},
            "_meta": {"progressToken": format!("t{id}")},
        }})
        .to_string()
    };
    session.send(&countdown(1, 500)).await;
    let first = session.next().await.expect("progress");
    assert_eq!(first["method"], "notifications/progress", "{first}");
    assert_eq!(first["params"]["progressToken"], "t1");
    session
        .send(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"enough"}}"#)
        .await;
    // A short countdown after it: its progress and answer come, and nothing of call 1.
    session.send(&countdown(2, 2)).await;
    let mut progress = Vec::new();
    loop {
        let message = session.next().await.expect("a message");
        assert_ne!(
            message["id"], 1,
            "a cancelled call is not answered: {message}"
        );
        if message["method"] == "notifications/progress" {
            if message["params"]["progressToken"] == "t2" {
                progress.push(message["params"]["progress"].as_f64().expect("a number"));
            }
            continue;
        }
        assert_eq!(message["id"], 2, "{message}");
        assert_eq!(message["result"]["isError"], false);
        break;
    }
    assert_eq!(
        progress,
        [1.0, 2.0, 3.0],
        "strictly increasing, all before the answer"
    );
}

#[tokio::test]
async fn the_end_of_stdin_answers_what_is_in_flight_and_exits_zero() {
    let mut session = Session::start().await;
    session
        .send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"countdown","arguments":{"count":3,"interval_ms":30}}}"#)
        .await;
    drop(session.stdin.take());
    let answer = session.next().await.expect("the answer");
    assert_eq!(answer["id"], 1);
    assert_eq!(
        answer["result"]["content"][0]["text"],
        "Counted down from 3 to 0."
    );
    assert!(session.next().await.is_none(), "then stdout ends");
    let status = tokio::time::timeout(Duration::from_secs(5), session.child.wait())
        .await
        .expect("exits promptly")
        .expect("waits");
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn the_readme_session_prints_what_the_readme_shows() {
    let session = rpc_tests::console_session("## An MCP server");
    let [(command, expected)] = session.as_slice() else {
        panic!("one command");
    };
    let command = command.replace("cargo run -q --example mcp", BINARY);
    let output = rpc_tests::shell(&command).await;
    assert!(output.status.success(), "`{command}`");
    assert_eq!(String::from_utf8_lossy(&output.stdout), *expected);
}

#[tokio::test]
async fn a_call_that_outlives_the_end_of_stdin_is_given_up_after_a_second_and_the_exit_is_zero() {
    let mut session = Session::start().await;
    session
        .send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"countdown","arguments":{"count":100,"interval_ms":1000}}}"#)
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let closed = std::time::Instant::now();
    drop(session.stdin.take());
    assert!(session.next().await.is_none(), "given up: no answer");
    let status = tokio::time::timeout(Duration::from_secs(5), session.child.wait())
        .await
        .expect("exits promptly")
        .expect("waits");
    assert!(status.success(), "{status}");
    let took = closed.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "the call had its second: {took:?}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn over_socketpairs_as_node_based_hosts_launch_servers_it_is_the_same() {
    use std::os::fd::OwnedFd;
    let (ours_in, theirs_in) = std::os::unix::net::UnixStream::pair().expect("a socketpair");
    let (ours_out, theirs_out) = std::os::unix::net::UnixStream::pair().expect("a socketpair");
    let mut child = Command::new(BINARY)
        .stdin(Stdio::from(OwnedFd::from(theirs_in)))
        .stdout(Stdio::from(OwnedFd::from(theirs_out)))
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    ours_in.set_nonblocking(true).expect("non-blocking");
    ours_out.set_nonblocking(true).expect("non-blocking");
    let mut write = tokio::net::UnixStream::from_std(ours_in).expect("a socket");
    let read = tokio::net::UnixStream::from_std(ours_out).expect("a socket");
    let mut lines = BufReader::new(read).lines();
    write
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"add\",\"arguments\":{\"a\":2,\"b\":3}}}\n")
        .await
        .expect("writes");
    let line = tokio::time::timeout(STEP, lines.next_line())
        .await
        .expect("in time")
        .expect("reads")
        .expect("a line");
    let answer: Value = serde_json::from_str(&line).expect("JSON");
    assert_eq!(answer["result"]["content"][0]["text"], "5", "{line}");
    // The end of its input (a socket's shutdown) ends it, as a pipe's does.
    write.shutdown().await.expect("shuts down");
    let end = tokio::time::timeout(STEP, lines.next_line())
        .await
        .expect("in time");
    assert!(matches!(end, Ok(None)), "{end:?}");
    let status = tokio::time::timeout(STEP, child.wait())
        .await
        .expect("exits")
        .expect("waits");
    assert!(status.success(), "{status}");
}
