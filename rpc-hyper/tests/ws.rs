//! The WebSocket transport over real sockets: the HTTP contract's answers as text frames, the
//! context once per connection, concurrent calls, the handshake's refusals, the close codes.
#![cfg(feature = "ws")]

mod common;

use std::time::Duration;

use common::ws::*;
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

#[tokio::test]
async fn every_request_of_the_http_contract_gets_the_same_answer_as_a_text_frame() {
    let server = TestServer::default().await;
    let mut ws = open(&server, &[]).await.unwrap();
    assert_eq!(
        call(
            &mut ws,
            r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#
        )
        .await,
        json!({"jsonrpc":"2.0","result":5,"id":1})
    );
    // A notification gets nothing: the next answer is the batch's.
    ws.send(Message::text(
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3]}"#,
    ))
    .await
    .unwrap();
    assert_eq!(
        call(
            &mut ws,
            r#"[{"jsonrpc":"2.0","method":"add","params":[1,1],"id":"a"},{"jsonrpc":"2.0","method":"nope","id":"b"}]"#
        )
        .await,
        json!([
            {"jsonrpc":"2.0","result":2,"id":"a"},
            {"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"b"}
        ])
    );
    // Invalid JSON is -32700, and the connection stays open.
    assert_eq!(call(&mut ws, "{oops").await["error"]["code"], -32700);
    // A binary frame holding JSON is answered as text.
    ws.send(Message::Binary(Bytes::from_static(
        br#"{"jsonrpc":"2.0","method":"add","params":[4,4],"id":2}"#,
    )))
    .await
    .unwrap();
    assert_eq!(
        next(&mut ws).await,
        json!({"jsonrpc":"2.0","result":8,"id":2})
    );
}

#[tokio::test]
async fn the_context_is_filled_once_per_connection_from_the_upgrade_request() {
    let server = TestServer::default().await;
    let mut ws = open(&server, &[("x-request-id", "ws-1")]).await.unwrap();
    let first = call(&mut ws, r#"{"jsonrpc":"2.0","method":"context","id":1}"#).await;
    let second = call(&mut ws, r#"{"jsonrpc":"2.0","method":"context","id":2}"#).await;
    assert_eq!(first["result"], second["result"]);
    assert_eq!(first["result"]["request_id"], "ws-1");
    assert_eq!(first["result"]["version"], "HTTP/1.1");
    assert!(first["result"]["peer"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    assert!(first["result"]["connection"].is_u64());
    let mut other = open(&server, &[]).await.unwrap();
    let third = call(&mut other, r#"{"jsonrpc":"2.0","method":"context","id":3}"#).await;
    assert_ne!(first["result"]["connection"], third["result"]["connection"]);
}

#[tokio::test]
async fn a_slow_call_does_not_hold_up_a_fast_one_behind_it() {
    let server = TestServer::default().await;
    let mut ws = open(&server, &[]).await.unwrap();
    ws.send(Message::text(
        r#"{"jsonrpc":"2.0","method":"slow","params":[300],"id":"slow"}"#,
    ))
    .await
    .unwrap();
    ws.send(Message::text(
        r#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":"fast"}"#,
    ))
    .await
    .unwrap();
    assert_eq!(next(&mut ws).await["id"], "fast");
    assert_eq!(
        next(&mut ws).await,
        json!({"jsonrpc":"2.0","result":"done","id":"slow"})
    );
}

#[tokio::test]
async fn the_handshake_refuses_other_origins_and_other_paths() {
    let server = TestServer::start(|e| e.allow_origin("https://app.example"), |s| s).await;
    assert_eq!(
        open(&server, &[("origin", "https://evil.example")])
            .await
            .err(),
        Some(403)
    );
    assert!(open(&server, &[("origin", "https://app.example")])
        .await
        .is_ok());
    assert!(open(&server, &[]).await.is_ok(), "no Origin: not a browser");
    let other = format!("ws://{}/elsewhere", server.addr);
    let err = tokio_tungstenite::connect_async(other).await.unwrap_err();
    assert!(
        matches!(&err, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 404),
        "{err}"
    );
    // A plain GET is still 405.
    assert_eq!(
        send(&http1(), "GET", &server.url("/"), None, "")
            .await
            .status,
        405
    );
}

#[tokio::test]
async fn a_message_over_the_limit_closes_with_1009() {
    let server = TestServer::start(|e| e.max_body_size(1024), |s| s).await;
    let mut ws = open(&server, &[]).await.unwrap();
    let big = format!(
        r#"{{"jsonrpc":"2.0","method":"add","params":[1,2],"id":"{}"}}"#,
        "x".repeat(2000)
    );
    ws.send(Message::text(big)).await.ok();
    assert_eq!(closed_with(&mut ws).await, Some(CloseCode::Size));
    // Others go on.
    let mut ws = open(&server, &[]).await.unwrap();
    assert_eq!(
        call(
            &mut ws,
            r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#
        )
        .await["result"],
        5
    );
}

#[tokio::test]
async fn a_fragmented_message_over_the_limit_closes_with_1009() {
    let server = TestServer::start(|e| e.max_body_size(1024), |s| s).await;
    let mut stream = raw(&server).await;
    // Eleven fragments of 100 bytes, each well under the limit, 1,100 bytes together.
    let part = [b' '; 100];
    let fragment = |head: u8| {
        let mut frame = vec![head, 0x80 | 100, 0, 0, 0, 0];
        frame.extend_from_slice(&part);
        frame
    };
    write_all(&mut stream, &fragment(0x01)).await;
    for _ in 0..9 {
        write_all(&mut stream, &fragment(0x00)).await;
    }
    write_all(&mut stream, &fragment(0x80)).await;
    assert_eq!(frames_until_close(&mut stream).await.1, Some(1009));
    still_serves(&server).await;
}

#[tokio::test]
async fn graceful_shutdown_answers_calls_in_flight_then_closes_with_1001() {
    let server = TestServer::default().await;
    let mut ws = open(&server, &[]).await.unwrap();
    ws.send(Message::text(
        r#"{"jsonrpc":"2.0","method":"slow","params":[200],"id":1}"#,
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stopping = tokio::spawn(server.stop());
    assert_eq!(
        next(&mut ws).await,
        json!({"jsonrpc":"2.0","result":"done","id":1})
    );
    assert_eq!(closed_with(&mut ws).await, Some(CloseCode::Away));
    tokio::time::timeout(STEP, stopping)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn invalid_utf8_closes_with_1007_and_a_protocol_violation_with_1002() {
    let server = TestServer::default().await;
    let mut stream = raw(&server).await;
    write_all(&mut stream, &frame(0x1, b"{\"a\":\"\xff\xfe\"}", true)).await;
    assert_eq!(frames_until_close(&mut stream).await.1, Some(1007));
    // A client's frame must be masked.
    let mut stream = raw(&server).await;
    write_all(&mut stream, &frame(0x1, b"{}", false)).await;
    assert_eq!(frames_until_close(&mut stream).await.1, Some(1002));
    // The server goes on.
    let mut ws = open(&server, &[]).await.unwrap();
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#,
    )
    .await;
    assert_eq!(answer["result"], 5);
}

#[tokio::test]
async fn a_quiet_connection_is_pinged_and_closed_when_it_does_not_answer() {
    let server = TestServer::start(|e| e.ping_interval(Duration::from_millis(100)), |s| s).await;
    // A client that answers pings (its library does, while it reads) stays.
    let mut ws = open(&server, &[]).await.unwrap();
    let reading = tokio::spawn(async move {
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_millis(600) {
            match tokio::time::timeout(Duration::from_millis(50), ws.next()).await {
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) => return false,
                _ => {}
            }
        }
        true
    });
    // One that never answers is pinged, then closed.
    let mut stream = raw(&server).await;
    let (opcodes, code) = frames_until_close(&mut stream).await;
    assert_eq!(opcodes, [0x9, 0x8], "a ping, then the close");
    assert_eq!(code, Some(1001));
    assert!(reading.await.unwrap(), "the answering client was closed");
}

#[tokio::test]
async fn past_the_calls_in_flight_limit_the_next_message_waits_for_an_answer() {
    let server = TestServer::start(|e| e.max_calls_in_flight(2), |s| s).await;
    let mut ws = open(&server, &[]).await.unwrap();
    let started = std::time::Instant::now();
    for id in 1..=3 {
        let call = format!(r#"{{"jsonrpc":"2.0","method":"slow","params":[300],"id":{id}}}"#);
        ws.send(Message::text(call)).await.unwrap();
    }
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(next(&mut ws).await["id"].as_u64().unwrap());
    }
    // Two run at once; the third is read only when one of them has answered.
    assert_eq!(ids[2], 3, "{ids:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(550),
        "the third call ran beside the first two: {:?}",
        started.elapsed()
    );
}

/// The server still answers a new client correctly.
async fn still_serves(server: &TestServer) {
    let mut ws = open(server, &[]).await.unwrap();
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#,
    )
    .await;
    assert_eq!(answer, json!({"jsonrpc":"2.0","result":5,"id":1}));
}

#[tokio::test]
async fn garbage_frames_deep_nesting_and_vanishing_clients_harm_no_one() {
    let server = TestServer::default().await;
    let mut ws = open(&server, &[]).await.unwrap();
    // Random bytes, as text that is not JSON and as binary frames: each gets an error answer.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..50 {
        let bytes: Vec<u8> = (0..(round * 7 + 1))
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let message = if round % 2 == 0 {
            Message::Binary(Bytes::from(bytes))
        } else {
            Message::text(String::from_utf8_lossy(&bytes).into_owned())
        };
        ws.send(message).await.unwrap();
        let answer = next(&mut ws).await;
        assert!(
            answer.get("error").is_some() || answer.is_array(),
            "{answer}"
        );
    }
    // Deep nesting, within the size limit.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    ws.send(Message::text(deep)).await.unwrap();
    // A batch of one entry that is no request: one -32600 in an array.
    let answer = next(&mut ws).await;
    assert_eq!(answer[0]["error"]["code"], -32600, "{answer}");
    // A client that vanishes with a call in flight.
    ws.send(Message::text(
        r#"{"jsonrpc":"2.0","method":"slow","params":[200],"id":1}"#,
    ))
    .await
    .unwrap();
    drop(ws);
    // One that vanishes mid-frame: a header for 100 bytes, 10 of them, gone.
    let mut stream = raw(&server).await;
    let mut partial = vec![0x81, 0x80 | 100, 0, 0, 0, 0];
    partial.extend_from_slice(&[b'x'; 10]);
    write_all(&mut stream, &partial).await;
    drop(stream);
    // One that vanishes mid-handshake.
    let mut stream = connect(server.addr).await;
    write_all(
        &mut stream,
        b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n",
    )
    .await;
    drop(stream);
    still_serves(&server).await;
}

#[tokio::test]
async fn a_thousand_connect_call_disconnect_cycles_leave_the_server_serving() {
    let server = TestServer::default().await;
    for round in 0..1000 {
        let mut ws = open(&server, &[]).await.unwrap();
        if round % 10 == 0 {
            let answer = call(
                &mut ws,
                r#"{"jsonrpc":"2.0","method":"add","params":[1,1],"id":1}"#,
            )
            .await;
            assert_eq!(answer["result"], 2);
        }
        drop(ws);
    }
    still_serves(&server).await;
}

#[tokio::test]
async fn a_message_past_the_time_limit_is_answered_and_shutdown_does_not_wait_for_ever() {
    let server = TestServer::start(
        |e| e.request_timeout(Duration::from_millis(200)),
        |s| s.drain_timeout(Duration::from_millis(300)),
    )
    .await;
    let mut ws = open(&server, &[]).await.unwrap();
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"slow","params":[5000],"id":1}"#,
    )
    .await;
    assert_eq!(
        answer,
        json!({"jsonrpc":"2.0","error":{"code":-32000,"message":"Request timed out"},"id":1})
    );
    // Without a time limit, a call that outlasts the drain is cut off when the drain ends.
    let server = TestServer::start(
        |e| e.request_timeout(None),
        |s| s.drain_timeout(Duration::from_millis(300)),
    )
    .await;
    let mut ws = open(&server, &[]).await.unwrap();
    ws.send(Message::text(
        r#"{"jsonrpc":"2.0","method":"slow","params":[60000],"id":1}"#,
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    server.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(closed_with(&mut ws).await, Some(CloseCode::Away));
}

#[tokio::test]
async fn a_client_that_sends_without_reading_loses_its_connection() {
    let server = TestServer::start(
        |e| {
            e.send_timeout(Duration::from_millis(300))
                .max_body_size(64 << 20)
        },
        |s| s.max_connections(1),
    )
    .await;
    // Answers far larger than the socket buffers, never read: the server's writes stall.
    let mut stuck = raw(&server).await;
    for _ in 0..40 {
        let call = br#"{"jsonrpc":"2.0","method":"big","params":[1000000],"id":1}"#;
        write_all(&mut stuck, &frame(0x1, call, true)).await;
    }
    // The one connection slot comes free: the stalled connection was dropped.
    let opened = tokio::time::timeout(Duration::from_secs(10), open(&server, &[]))
        .await
        .expect("the stalled connection still holds the only slot");
    let mut ws = opened.unwrap();
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#,
    )
    .await;
    assert_eq!(answer["result"], 5);
    drop(stuck);
}

#[tokio::test]
async fn the_bytes_of_the_messages_in_flight_are_bounded_too() {
    // A message limit of 200 bytes: at most twice that in flight.
    let server = TestServer::start(|e| e.max_body_size(200), |s| s).await;
    let mut ws = open(&server, &[]).await.unwrap();
    let started = std::time::Instant::now();
    for id in 1..=4 {
        // About 180 bytes each: the third brings the total past 400, the fourth waits.
        let call = format!(
            r#"{{"jsonrpc":"2.0","method":"slow","params":[300],"id":"{id}{}"}}"#,
            "x".repeat(120)
        );
        ws.send(Message::text(call)).await.unwrap();
    }
    let mut last = None;
    for _ in 0..4 {
        last = Some(
            next(&mut ws).await["id"]
                .as_str()
                .unwrap()
                .chars()
                .next()
                .unwrap(),
        );
    }
    assert_eq!(last, Some('4'));
    assert!(
        started.elapsed() >= Duration::from_millis(550),
        "the fourth call ran beside the first three: {:?}",
        started.elapsed()
    );
}
