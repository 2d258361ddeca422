//! The key-value example end to end: the README's session replayed against the service, the
//! call log with the request ids, and what the session does not show (limits, h2c-free auth).

use std::io::Write;
use std::sync::{Arc, Mutex};

use rpc_tests::{client, console_session, send_with, shell_words};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const README_URL: &str = "http://127.0.0.1:4000";

/// The service on a free port; stopped when the sender is dropped or fired.
async fn start() -> (
    String,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(rpc_examples::kv::serve(listener, async {
        stopped.await.ok();
    }));
    (url, stop, server)
}

/// The number after `"retry_after_ms":` differs from run to run.
fn without_wait(answer: &str) -> String {
    let Some(at) = answer.find("\"retry_after_ms\":") else {
        return answer.to_owned();
    };
    let digits = at + "\"retry_after_ms\":".len();
    let end = answer[digits..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(answer.len(), |n| digits + n);
    format!("{}N{}", &answer[..digits], &answer[end..])
}

/// A log that keeps what the call log writes.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_session_gets_every_answer_it_shows_and_the_log_has_the_request_ids() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The server's tasks run on the runtime's threads: the subscriber must be global.
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    // Over HTTP/1.1, then h2c, each against a fresh service (the rate limit remembers).
    for http2 in [false, true] {
        replay(http2, &log).await;
    }
}

/// Replays the README's session against a fresh service over HTTP/1.1 or h2c, then checks the
/// call log.
async fn replay(http2: bool, log: &Log) {
    log.0.lock().unwrap().clear();
    let (url, stop, server) = start().await;
    let http = client(http2);
    let session = console_session("## A key-value service");
    assert!(session.len() >= 8, "the session shows the service");
    for (command, expected) in session {
        let words = shell_words(command);
        assert_eq!(words[0], "curl", "{command}");
        let headers: Vec<(String, String)> = words
            .iter()
            .enumerate()
            .filter(|(_, word)| *word == "-H")
            .map(|(i, _)| {
                let (name, value) = words[i + 1].split_once(": ").expect("Name: value");
                (name.to_owned(), value.to_owned())
            })
            .collect();
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let body = words
            .iter()
            .position(|w| w == "-d")
            .map(|i| words[i + 1].clone())
            .expect("a body");
        let target = words
            .iter()
            .find(|w| w.starts_with(README_URL))
            .expect("a URL")
            .replace(README_URL, &url);
        let (_, answer) = send_with(&http, "POST", &target, &headers, &body).await;
        assert_eq!(
            without_wait(answer.trim()),
            without_wait(expected.trim()),
            "`{command}` (h2c: {http2})"
        );
    }
    stop.send(()).ok();
    server.await.unwrap().unwrap();

    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    for line in [
        r#"method="kv.set" id="1" identity="alice" request_id="req-1" outcome="ok""#,
        r#"method="kv.set" id="5" identity="bob" request_id="-" outcome="error" code=4003"#,
        r#"method="kv.get" id="10" identity="alice" request_id="req-7" outcome="error" code=4040"#,
        r#"method="kv.list" id="14" identity="alice" request_id="-" outcome="error" code=4029"#,
    ] {
        assert!(log.contains(line), "no {line} in the log:\n{log}");
    }
    // The unauthenticated request never reached a call.
    assert!(!log.contains(r#"id="6""#), "{log}");
}

#[tokio::test]
async fn values_over_the_limit_and_listing_limits_are_answered_as_documented() {
    let (url, stop, server) = start().await;
    let http = client(false);
    let alice = [
        ("content-type", "application/json"),
        ("authorization", "Bearer alice-token"),
    ];
    let call = |method: &str, params: Value| {
        json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).to_string()
    };
    let big = "x".repeat(rpc_examples::kv::MAX_VALUE_LEN + 1);
    let (_, answer) = send_with(
        &http,
        "POST",
        &url,
        &alice,
        &call("kv.set", json!(["k", big])),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&answer).unwrap()["error"],
        json!({"code": 4130, "message": "value too large", "data": {"limit": 1024, "len": 1025}})
    );
    for key in ["b", "a", "c", "ab"] {
        send_with(
            &http,
            "POST",
            &url,
            &alice,
            &call("kv.set", json!([key, "v"])),
        )
        .await;
    }
    let (_, answer) = send_with(
        &http,
        "POST",
        &url,
        &alice,
        &call("kv.list", json!({"prefix": "a", "limit": 5})),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&answer).unwrap()["result"],
        json!(["a", "ab"])
    );
    let (_, answer) = send_with(
        &http,
        "POST",
        &url,
        &alice,
        &call("kv.list", json!({"limit": 2})),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&answer).unwrap()["result"],
        json!(["a", "ab"])
    );
    stop.send(()).ok();
    server.await.unwrap().unwrap();
}

/// `rpc.discover` is behind the token like every call, and open to every user; the document
/// names the module's methods, their declared errors, and not the server-side params.
#[tokio::test]
async fn every_user_may_discover_the_service_and_no_one_without_a_token() {
    let (url, stop, server) = start().await;
    let http = client(false);
    let discover = r#"{"jsonrpc":"2.0","method":"rpc.discover","id":1}"#;
    for token in ["alice-token", "bob-token"] {
        let headers = [
            ("content-type", "application/json"),
            ("authorization", &*format!("Bearer {token}")),
        ];
        let (_, answer) = send_with(&http, "POST", &url, &headers, discover).await;
        let document = &serde_json::from_str::<Value>(&answer).unwrap()["result"];
        assert_eq!(document["info"]["title"], "Key-value store", "{token}");
        let get = document["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "kv.get")
            .expect("kv.get is described");
        assert_eq!(
            get["params"],
            json!([{"name": "key", "required": true, "schema": {"type": "string"}}])
        );
        assert_eq!(
            get["errors"],
            json!([{"code": 4040, "message": "no such key"}])
        );
    }
    let (status, _) = send_with(
        &http,
        "POST",
        &url,
        &[("content-type", "application/json")],
        discover,
    )
    .await;
    assert_eq!(status, 401);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
