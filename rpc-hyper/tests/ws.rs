//! The WebSocket transport over real sockets: the HTTP contract's answers as text frames, the
//! context once per connection, concurrent calls, the handshake's refusals, the close codes.
#![cfg(feature = "ws")]

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn open(server: &TestServer, headers: &[(&str, &str)]) -> Result<Ws, u16> {
    let mut request = format!("ws://{}/", server.addr)
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    match tokio::time::timeout(STEP, tokio_tungstenite::connect_async(request))
        .await
        .expect("handshake in time")
    {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(err) => panic!("handshake failed: {err}"),
    }
}

/// The next text frame, as JSON.
async fn next(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(STEP, ws.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("a message");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("not a text frame: {other:?}"),
        }
    }
}

async fn call(ws: &mut Ws, body: &str) -> Value {
    ws.send(Message::text(body)).await.unwrap();
    next(ws).await
}

/// How the server closes the connection: its close code.
async fn closed_with(ws: &mut Ws) -> Option<CloseCode> {
    loop {
        match tokio::time::timeout(STEP, ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(frame))) => return frame.map(|frame| frame.code),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

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
