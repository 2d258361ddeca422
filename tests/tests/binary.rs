//! The calculator as a user runs it: its flags, the URL it prints, and a graceful exit with
//! status 0 on SIGTERM and on Ctrl-C (SIGINT).

use std::process::Stdio;
use std::time::Duration;

use rpc_tests::{client, send, start_binary, STEP};
use tokio::process::{Child, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_calculator");

async fn run_to_end(args: &[&str]) -> std::process::Output {
    let child = Command::new(BINARY)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output();
    tokio::time::timeout(STEP, child)
        .await
        .expect("exits in time")
        .expect("runs")
}

#[tokio::test]
async fn help_explains_the_options_and_exits_zero() {
    let output = run_to_end(&["--help"]).await;
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Usage: calculator [--addr HOST:PORT]"),
        "{text}"
    );
    assert!(text.contains("default 127.0.0.1:5000"), "{text}");
}

#[tokio::test]
async fn bad_arguments_are_refused_with_a_reason() {
    for (args, reason) in [
        (&["--addr", "nowhere"][..], "is not HOST:PORT"),
        (&["--addr"][..], "--addr needs a value"),
        (&["--port", "1"][..], "unknown argument `--port`"),
    ] {
        let output = run_to_end(args).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let text = String::from_utf8_lossy(&output.stderr);
        assert!(text.contains(reason), "{args:?}: {text}");
    }
}

/// Starts the calculator on a free port and returns it with the base URL it printed.
async fn start(args: &[&str]) -> (Child, String) {
    start_binary(BINARY, args, None).await
}

async fn signal_and_wait(mut child: Child, signal: &str) -> std::process::ExitStatus {
    let pid = child.id().expect("running").to_string();
    let sent = Command::new("kill")
        .args([signal, &pid])
        .status()
        .await
        .expect("kill runs");
    assert!(sent.success());
    tokio::time::timeout(STEP, child.wait())
        .await
        .expect("exits in time")
        .expect("waits")
}

#[tokio::test]
async fn it_prints_its_url_serves_and_exits_zero_on_sigterm() {
    let (child, url) = start(&["--addr", "127.0.0.1:0"]).await;
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    let http = client(false);
    assert_eq!(
        send(&http, "GET", &format!("{url}/"), "").await,
        (200, "Hello, world!".to_owned())
    );
    let (status, body) = send(
        &http,
        "POST",
        &format!("{url}/rpc"),
        r#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#,
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"jsonrpc":"2.0","result":5,"id":1}"#)
    );
    let status = signal_and_wait(child, "-TERM").await;
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn ctrl_c_stops_it_gracefully_too() {
    let (child, url) = start(&["--addr=127.0.0.1:0"]).await;
    let (status, _) = send(
        &client(true),
        "POST",
        &format!("{url}/rpc"),
        r#"{"jsonrpc":"2.0","method":"divide","params":[6,3],"id":1}"#,
    )
    .await;
    assert_eq!(status, 200);
    let status = signal_and_wait(child, "-INT").await;
    assert_eq!(status.code(), Some(0));
    // And the port is free again.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        tokio::net::TcpStream::connect(url.trim_start_matches("http://"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn with_websocket_clients_and_subscriptions_sigterm_closes_them_with_1001_and_exits_zero() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::Message;

    let (child, url) = start(&["--addr", "127.0.0.1:0"]).await;
    let ws_url = format!("{}/rpc", url.replace("http://", "ws://"));
    let mut clients = Vec::new();
    for _ in 0..3 {
        let (ws, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(&ws_url))
            .await
            .expect("handshake in time")
            .expect("a WebSocket");
        clients.push(ws);
    }
    // Two of them hold subscriptions: a countdown that would run for days, and the results.
    use futures_util::SinkExt;
    let subscriptions = [
        r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[1000000000,10],"id":1}"#,
        r#"{"jsonrpc":"2.0","method":"subscribe_results","id":2}"#,
    ];
    for (ws, body) in clients.iter_mut().zip(subscriptions) {
        ws.send(Message::text(body)).await.unwrap();
        let answer = tokio::time::timeout(STEP, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(
            answer.to_text().unwrap().contains(r#""result":"0x"#),
            "{answer}"
        );
    }
    let started = std::time::Instant::now();
    let status = signal_and_wait(child, "-TERM").await;
    assert_eq!(status.code(), Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    for mut ws in clients {
        let close = loop {
            match tokio::time::timeout(STEP, ws.next())
                .await
                .expect("closed in time")
            {
                Some(Ok(Message::Close(frame))) => break frame.map(|frame| frame.code),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break None,
            }
        };
        assert_eq!(close, Some(CloseCode::Away));
    }
}
