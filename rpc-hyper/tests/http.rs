//! The HTTP server over real sockets on 127.0.0.1: every row of the semantics table, both
//! protocols, connection handling, limits, timeouts and shutdown.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use serde_json::json;

const ADD: &str = r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#;

#[tokio::test]
async fn a_call_is_200_json() {
    let server = TestServer::default().await;
    let reply = post(&http1(), &server.url("/"), ADD).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.body, r#"{"jsonrpc":"2.0","result":5,"id":1}"#);
}

#[tokio::test]
async fn json_rpc_errors_are_200_json_parse_errors_included() {
    let server = TestServer::default().await;
    let client = http1();
    for (body, code) in [
        ("{", -32700),
        ("[]", -32600),
        (r#"{"jsonrpc":"2.0","method":"nope","id":1}"#, -32601),
    ] {
        let reply = post(&client, &server.url("/"), body).await;
        assert_eq!(reply.status, 200, "{body}");
        assert_eq!(reply.headers["content-type"], "application/json");
        assert_eq!(reply.json()["error"]["code"], json!(code), "{body}");
    }
}

#[tokio::test]
async fn nothing_to_answer_is_204_with_an_empty_body() {
    let server = TestServer::default().await;
    let client = http1();
    for body in [
        r#"{"jsonrpc":"2.0","method":"add","params":[1,2]}"#,
        r#"[{"jsonrpc":"2.0","method":"add","params":[1,2]},{"jsonrpc":"2.0","method":"nope"}]"#,
    ] {
        let reply = post(&client, &server.url("/"), body).await;
        assert_eq!(reply.status, 204, "{body}");
        assert_eq!(reply.body, "");
    }
}

#[tokio::test]
async fn other_methods_are_405_with_allow_post() {
    let server = TestServer::default().await;
    let client = http1();
    for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let reply = send(
            &client,
            method,
            &server.url("/"),
            Some("application/json"),
            "",
        )
        .await;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.headers["allow"], "POST");
    }
}

#[tokio::test]
async fn other_paths_are_404() {
    let server = TestServer::start(|e| e.path("/rpc"), |s| s).await;
    let client = http1();
    assert_eq!(post(&client, &server.url("/"), ADD).await.status, 404);
    assert_eq!(post(&client, &server.url("/rpc/x"), ADD).await.status, 404);
    assert_eq!(
        send(&client, "GET", &server.url("/other"), None, "")
            .await
            .status,
        404
    );
    assert_eq!(post(&client, &server.url("/rpc"), ADD).await.status, 200);
    assert_eq!(
        post(&client, &server.url("/rpc?x=1"), ADD).await.status,
        200,
        "a query is not the path"
    );
}

#[tokio::test]
async fn only_json_content_types_are_accepted() {
    let server = TestServer::default().await;
    let client = http1();
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "Application/JSON",
        "application/json-rpc",
        " application/json ",
    ] {
        let reply = send(&client, "POST", &server.url("/"), Some(content_type), ADD).await;
        assert_eq!(reply.status, 200, "{content_type:?}");
    }
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonp"),
        Some("json"),
        None,
    ] {
        let reply = send(&client, "POST", &server.url("/"), content_type, ADD).await;
        assert_eq!(reply.status, 415, "{content_type:?}");
    }
}

#[cfg(feature = "http2")]
#[tokio::test]
async fn http2_cleartext_with_prior_knowledge_on_the_same_port() {
    let server = TestServer::default().await;
    let reply = post(&h2c(), &server.url("/"), ADD).await;
    assert_eq!(reply.version, http::Version::HTTP_2);
    assert_eq!(reply.body, r#"{"jsonrpc":"2.0","result":5,"id":1}"#);
    let reply = post(&http1(), &server.url("/"), ADD).await;
    assert_eq!(reply.version, http::Version::HTTP_11);
}

/// Without the `http2` feature, an h2c client is told, in HTTP/2's own terms, to use HTTP/1.1.
#[cfg(not(feature = "http2"))]
#[tokio::test]
async fn without_the_http2_feature_an_h2c_client_is_told_http_1_1_is_required() {
    let server = TestServer::default().await;
    let mut stream = connect(server.addr).await;
    write_all(&mut stream, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
    let mut frames = Vec::new();
    use tokio::io::AsyncReadExt;
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut frames))
        .await
        .expect("closed in time")
        .expect("read");
    // An empty SETTINGS frame, then GOAWAY (type 7) with the error HTTP_1_1_REQUIRED (0xd).
    assert_eq!(&frames[..9], &[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    assert_eq!(frames[12], 7, "{frames:?}");
    assert_eq!(&frames[18..26], &[0, 0, 0, 0, 0, 0, 0, 0xd]);
    // The real client says so.
    let err = h2c_request_error(server.addr).await;
    assert!(err.contains("HTTP_1_1_REQUIRED"), "{err}");
    assert_eq!(post(&http1(), &server.url("/"), ADD).await.status, 200);
}

#[cfg(not(feature = "http2"))]
async fn h2c_request_error(addr: std::net::SocketAddr) -> String {
    use http_body_util::Full;
    let io = hyper_util::rt::TokioIo::new(connect(addr).await);
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    tokio::spawn(conn);
    let request = http::Request::post(format!("http://{addr}/"))
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from_static(ADD.as_bytes())))
        .unwrap();
    let err = sender.send_request(request).await.expect_err("refused");
    format!("{err:?}")
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let server = TestServer::default().await;
    let mut stream = connect(server.addr).await;
    for i in 0..5 {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"add","params":[{i},1],"id":{i}}}"#);
        write_all(&mut stream, &raw_post(&body)).await;
        let (status, body) = read_response(&mut stream).await.expect("still open");
        assert_eq!(status, 200);
        assert_eq!(
            body,
            format!(r#"{{"jsonrpc":"2.0","result":{},"id":{i}}}"#, i + 1)
        );
    }
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = TestServer::default().await;
    let mut stream = connect(server.addr).await;
    let mut all = Vec::new();
    for i in 0..10 {
        all.extend(raw_post(&format!(
            r#"{{"jsonrpc":"2.0","method":"add","params":[{i},0],"id":{i}}}"#
        )));
    }
    write_all(&mut stream, &all).await;
    for i in 0..10 {
        let (status, body) = read_response(&mut stream).await.expect("still open");
        assert_eq!(status, 200);
        assert_eq!(
            body,
            format!(r#"{{"jsonrpc":"2.0","result":{i},"id":{i}}}"#)
        );
    }
}

fn padded_call(size: usize) -> String {
    // A valid call padded with whitespace to exactly `size` bytes.
    format!("{ADD}{}", " ".repeat(size - ADD.len()))
}

#[tokio::test]
async fn a_sized_body_over_the_limit_is_413_and_at_the_limit_is_served() {
    let server = TestServer::start(|e| e.max_body_size(1024), |s| s).await;
    let client = http1();
    assert_eq!(
        post(&client, &server.url("/"), &padded_call(1024))
            .await
            .status,
        200
    );
    assert_eq!(
        post(&client, &server.url("/"), &padded_call(1025))
            .await
            .status,
        413
    );

    // Declared too large: answered at once, before the body is sent at all.
    let mut stream = connect(server.addr).await;
    let head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n";
    write_all(&mut stream, head.as_bytes()).await;
    let (status, _) = read_response(&mut stream)
        .await
        .expect("an answer before the body");
    assert_eq!(status, 413);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_without_reading_the_rest() {
    let server = TestServer::start(|e| e.max_body_size(1024), |s| s).await;
    let mut stream = connect(server.addr).await;
    let head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    write_all(&mut stream, head.as_bytes()).await;
    // 1,100 bytes in chunks, and never the last chunk: the server must answer anyway.
    for _ in 0..11 {
        write_all(
            &mut stream,
            format!("64\r\n{}\r\n", " ".repeat(100)).as_bytes(),
        )
        .await;
    }
    let (status, _) = read_response(&mut stream)
        .await
        .expect("an answer before the body ends");
    assert_eq!(status, 413);

    // Chunked within the limit is fine.
    let mut stream = connect(server.addr).await;
    let body = padded_call(1000);
    let chunked = format!("{head}{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
    write_all(&mut stream, chunked.as_bytes()).await;
    let (status, body) = read_response(&mut stream).await.expect("answered");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"jsonrpc":"2.0","result":5,"id":1}"#)
    );
}

#[tokio::test]
async fn a_client_stalled_mid_header_is_disconnected_and_others_are_served() {
    let server =
        TestServer::start(|e| e, |s| s.header_read_timeout(Duration::from_millis(300))).await;
    let mut stalled = connect(server.addr).await;
    write_all(&mut stalled, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Ty").await;
    // Meanwhile, others are served.
    assert_eq!(post(&http1(), &server.url("/"), ADD).await.status, 200);
    assert!(
        closed_within(&mut stalled, Duration::from_secs(5)).await,
        "the stalled client was not cut off"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_read_timeout() {
    let server =
        TestServer::start(|e| e, |s| s.header_read_timeout(Duration::from_millis(300))).await;
    let mut silent = connect(server.addr).await;
    let started = std::time::Instant::now();
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        "the silent client was not cut off"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "cut off early, after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_head_trickling_in_is_cut_off_at_the_header_read_timeout() {
    let server = TestServer::start(
        |e| e,
        |s| {
            s.header_read_timeout(Duration::from_millis(300))
                .keep_alive_timeout(Duration::from_secs(30))
        },
    )
    .await;
    let mut slow = connect(server.addr).await;
    let head = raw_post(ADD);
    let started = std::time::Instant::now();
    // A byte every 50 ms keeps the connection busy, but the head is never done in time.
    for byte in &head[..40] {
        if tokio::io::AsyncWriteExt::write_all(&mut slow, std::slice::from_ref(byte))
            .await
            .is_err()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)).await,
        "the trickling client was not cut off"
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300),
        "cut off early, after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(1500),
        "cut off late, after {elapsed:?}"
    );
}

#[tokio::test]
async fn a_kept_alive_connection_waits_for_its_next_request_past_the_header_read_timeout() {
    let server = TestServer::start(
        |e| e.body_timeout(Duration::from_secs(30)),
        |s| {
            s.header_read_timeout(Duration::from_millis(200))
                .keep_alive_timeout(Duration::from_secs(30))
        },
    )
    .await;
    let mut stream = connect(server.addr).await;
    write_all(&mut stream, &raw_post(ADD)).await;
    assert_eq!(read_response(&mut stream).await.unwrap().0, 200);
    // Idle between requests: the header clock starts with the next request's first byte.
    tokio::time::sleep(Duration::from_millis(700)).await;
    write_all(&mut stream, &raw_post(ADD)).await;
    assert_eq!(read_response(&mut stream).await.expect("still open").0, 200);
    // A body slower than the header read timeout is the body timeout's business.
    let request = raw_post(ADD);
    let (head, body) = request.split_at(request.len() - ADD.len());
    write_all(&mut stream, head).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    write_all(&mut stream, body).await;
    assert_eq!(read_response(&mut stream).await.expect("still open").0, 200);
}

#[cfg(feature = "http2")]
#[tokio::test]
async fn an_http2_connection_has_no_header_read_timeout_between_requests() {
    use http_body_util::{BodyExt, Full};
    let server = TestServer::start(
        |e| e,
        |s| {
            s.header_read_timeout(Duration::from_millis(200))
                .keep_alive_timeout(Duration::from_secs(30))
        },
    )
    .await;
    let io = hyper_util::rt::TokioIo::new(connect(server.addr).await);
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    for pause in [0, 700] {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let request = http::Request::post(server.url("/"))
            .header("content-type", "application/json")
            .body(Full::new(bytes::Bytes::from_static(ADD.as_bytes())))
            .unwrap();
        let response = tokio::time::timeout(Duration::from_secs(5), sender.send_request(request))
            .await
            .expect("answered in time")
            .expect("the connection is still open");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, r#"{"jsonrpc":"2.0","result":5,"id":1}"#);
    }
    conn.abort();
}

#[tokio::test]
async fn a_client_stalled_mid_body_gets_408_and_frees_its_connection() {
    let server = TestServer::start(
        |e| e.body_timeout(Duration::from_millis(300)),
        |s| s.max_connections(1),
    )
    .await;
    let mut stalled = connect(server.addr).await;
    let head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"";
    write_all(&mut stalled, head.as_bytes()).await;
    let (status, _) = read_response(&mut stalled)
        .await
        .expect("an answer to the stalled body");
    assert_eq!(status, 408);
    assert!(
        closed_within(&mut stalled, Duration::from_secs(5)).await,
        "the connection stayed open"
    );
    // The one connection slot is free again.
    assert_eq!(post(&http1(), &server.url("/"), ADD).await.status, 200);
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_keep_alive_timeout() {
    let server = TestServer::start(
        |e| e,
        |s| {
            s.keep_alive_timeout(Duration::from_millis(300))
                .header_read_timeout(Duration::from_secs(30))
        },
    )
    .await;
    let mut stream = connect(server.addr).await;
    write_all(&mut stream, &raw_post(ADD)).await;
    assert_eq!(read_response(&mut stream).await.unwrap().0, 200);
    assert!(
        closed_within(&mut stream, Duration::from_secs(5)).await,
        "the idle connection stayed open"
    );
}

#[tokio::test]
async fn a_client_that_never_reads_its_answer_loses_its_connection() {
    let server = TestServer::start(
        // Room for an answer far larger than the socket buffers.
        |e| e.max_body_size(64 << 20),
        |s| {
            s.keep_alive_timeout(Duration::from_millis(300))
                .max_connections(1)
        },
    )
    .await;
    // An answer far larger than the socket buffers, never read: the server's write stalls.
    let mut stuck = connect(server.addr).await;
    write_all(
        &mut stuck,
        &raw_post(r#"{"jsonrpc":"2.0","method":"big","params":[33554432],"id":1}"#),
    )
    .await;
    // The one connection slot comes free: the stalled connection was closed.
    let started = std::time::Instant::now();
    let reply = tokio::time::timeout(
        Duration::from_secs(10),
        post(&http1(), &server.url("/"), ADD),
    )
    .await
    .expect("the stalled connection still holds the only slot");
    assert_eq!(reply.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "closed too early"
    );
    drop(stuck);
}

#[tokio::test]
async fn connections_past_the_limit_wait_in_the_backlog() {
    let server = TestServer::start(|e| e, |s| s.max_connections(2)).await;
    let mut first = connect(server.addr).await;
    let mut second = connect(server.addr).await;
    for stream in [&mut first, &mut second] {
        write_all(stream, &raw_post(ADD)).await;
        assert_eq!(read_response(stream).await.unwrap().0, 200);
    }
    // The third connects (the kernel's backlog takes it) but is not served yet...
    let mut third = connect(server.addr).await;
    write_all(&mut third, &raw_post(ADD)).await;
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(
        Duration::from_millis(300),
        tokio::io::AsyncReadExt::read(&mut third, &mut byte),
    )
    .await;
    assert!(early.is_err(), "served past the connection limit");
    // ...until a slot frees up.
    drop(first);
    let (status, body) = read_response(&mut third)
        .await
        .expect("served once a slot is free");
    assert_eq!(status, 200);
    // The one byte may or may not have been consumed: the body must be the answer either way.
    assert!(body.ends_with(r#""result":5,"id":1}"#), "{body}");
}

/// A server whose HTTP/1 connections park each time they wait for a request.
async fn parking_server() -> TestServer {
    TestServer::start(|e| e, |s| s.keep_buffers_up_to(0)).await
}

fn add_call(i: usize) -> String {
    format!(r#"{{"jsonrpc":"2.0","method":"add","params":[{i},1],"id":{i}}}"#)
}

fn add_answer(i: usize) -> String {
    format!(r#"{{"jsonrpc":"2.0","result":{},"id":{i}}}"#, i + 1)
}

#[tokio::test]
async fn a_parked_connection_resumes_with_its_next_request() {
    let server = parking_server().await;
    let mut stream = connect(server.addr).await;
    for i in 0..5 {
        write_all(&mut stream, &raw_post(&add_call(i))).await;
        assert_eq!(
            read_response(&mut stream).await.expect("still open"),
            (200, add_answer(i))
        );
        // Time to park.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_parked_connection_keeps_the_bytes_read_ahead() {
    let server = parking_server().await;
    let mut stream = connect(server.addr).await;
    // Pipelined: hyper reads requests ahead of the one it answers.
    let all: Vec<u8> = (0..10).flat_map(|i| raw_post(&add_call(i))).collect();
    write_all(&mut stream, &all).await;
    for i in 0..10 {
        assert_eq!(
            read_response(&mut stream).await.expect("still open"),
            (200, add_answer(i))
        );
    }
    // A request in pieces, with pauses long enough to park between them: mid-head,
    // and after the head (in flight, so not parked).
    let request = raw_post(&add_call(10));
    let (head, body) = request.split_at(request.len() - add_call(10).len());
    for piece in [&head[..20], &head[20..], body] {
        write_all(&mut stream, piece).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        read_response(&mut stream).await.expect("still open"),
        (200, add_answer(10))
    );
    // An answer and, in the same packet, the start of the next request.
    let mut two = raw_post(&add_call(11));
    two.extend_from_slice(&raw_post(&add_call(12))[..30]);
    write_all(&mut stream, &two).await;
    assert_eq!(
        read_response(&mut stream).await.unwrap(),
        (200, add_answer(11))
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    write_all(&mut stream, &raw_post(&add_call(12))[30..]).await;
    assert_eq!(
        read_response(&mut stream).await.unwrap(),
        (200, add_answer(12))
    );
    // And the connection is still kept alive.
    write_all(&mut stream, &raw_post(&add_call(13))).await;
    assert_eq!(
        read_response(&mut stream).await.unwrap(),
        (200, add_answer(13))
    );
}

#[tokio::test]
async fn a_parking_server_still_closes_when_asked_and_keeps_alive_otherwise() {
    let server = parking_server().await;
    for close in [false, true] {
        let mut stream = connect(server.addr).await;
        let body = add_call(1);
        let connection = if close { "Connection: close\r\n" } else { "" };
        let request = format!(
            "POST / HTTP/1.1\r\nHost: t\r\n{connection}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        // The head in pieces, with time to park between them if the server (wrongly) would.
        for piece in request.as_bytes().chunks(20) {
            write_all(&mut stream, piece).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            read_response(&mut stream).await.unwrap(),
            (200, add_answer(1))
        );
        if close {
            assert!(
                closed_within(&mut stream, Duration::from_secs(5)).await,
                "Connection: close was not honoured"
            );
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            write_all(&mut stream, &raw_post(&add_call(2))).await;
            assert_eq!(
                read_response(&mut stream).await.unwrap(),
                (200, add_answer(2))
            );
        }
    }
}

#[tokio::test]
async fn parked_connections_keep_their_timeouts_and_end_on_shutdown() {
    let server = TestServer::start(
        |e| e,
        |s| {
            s.keep_buffers_up_to(0)
                .header_read_timeout(Duration::from_millis(300))
                .keep_alive_timeout(Duration::from_secs(30))
        },
    )
    .await;
    // A head cut off mid-way is parked with its bytes, and still times out.
    let mut stalled = connect(server.addr).await;
    write_all(&mut stalled, &raw_post(ADD)[..25]).await;
    assert!(
        closed_within(&mut stalled, Duration::from_secs(5)).await,
        "the stalled head was not cut off"
    );
    // A parked connection is closed by a graceful shutdown at once.
    let mut idle = connect(server.addr).await;
    write_all(&mut idle, &raw_post(ADD)).await;
    assert_eq!(read_response(&mut idle).await.unwrap().0, 200);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = std::time::Instant::now();
    server.stop().await.expect("the server returns cleanly");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown waited for an idle connection"
    );
    assert!(closed_within(&mut idle, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn graceful_shutdown_lets_an_in_flight_call_finish() {
    let server = TestServer::default().await;
    let url = server.url("/");
    let client = http1();
    let in_flight = tokio::spawn(async move {
        post(
            &client,
            &url,
            r#"{"jsonrpc":"2.0","method":"slow","params":[400],"id":7}"#,
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = server.addr;
    let router = std::sync::Arc::clone(&server.router);
    server.stop().await.expect("the server returns cleanly");
    let reply = tokio::time::timeout(STEP, in_flight)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply.body, r#"{"jsonrpc":"2.0","result":"done","id":7}"#);
    assert!(router.state().slow_finished.load(Ordering::SeqCst));
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn graceful_shutdown_gives_up_after_the_drain_timeout() {
    let server = TestServer::start(|e| e, |s| s.drain_timeout(Duration::from_millis(200))).await;
    let url = server.url("/");
    let in_flight = tokio::spawn(async move {
        let client = http1();
        let request = http::Request::post(url)
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(
                br#"{"jsonrpc":"2.0","method":"slow","params":[60000],"id":1}"#,
            )))
            .unwrap();
        client.request(request).await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    server.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown waited past its drain time"
    );
    let outcome = tokio::time::timeout(STEP, in_flight)
        .await
        .unwrap()
        .unwrap();
    assert!(
        outcome.is_err(),
        "the call left after the drain time is cut off"
    );
}

#[tokio::test]
async fn a_panicking_method_answers_internal_error_and_the_server_stays_up() {
    let server = TestServer::default().await;
    let client = http1();
    let reply = post(
        &client,
        &server.url("/"),
        r#"{"jsonrpc":"2.0","method":"boom","id":1}"#,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        r#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}"#
    );
    assert!(!reply.body.contains("detail"));
    assert_eq!(post(&client, &server.url("/"), ADD).await.status, 200);
}

#[tokio::test]
async fn a_request_past_its_time_limit_answers_an_error_and_its_work_is_dropped() {
    let server = TestServer::start(|e| e.request_timeout(Duration::from_millis(200)), |s| s).await;
    let reply = post(
        &http1(),
        &server.url("/"),
        r#"[{"jsonrpc":"2.0","method":"slow","params":[1000],"id":"a"},{"jsonrpc":"2.0","method":"add","params":[1,1],"id":"b"}]"#,
    )
    .await;
    assert_eq!(reply.status, 200);
    let answer = reply.json();
    assert_eq!(
        answer[0],
        json!({"jsonrpc":"2.0","error":{"code":-32000,"message":"Request timed out"},"id":"a"})
    );
    assert_eq!(answer[1]["id"], json!("b"));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        !server.router.state().slow_finished.load(Ordering::SeqCst),
        "the timed-out work went on"
    );
}

#[tokio::test]
async fn a_client_that_vanishes_mid_body_harms_no_one() {
    let server = TestServer::default().await;
    for _ in 0..20 {
        let mut stream = connect(server.addr).await;
        let head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"jsonrpc\"";
        write_all(&mut stream, head.as_bytes()).await;
        drop(stream);
    }
    assert_eq!(post(&http1(), &server.url("/"), ADD).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_clients_each_get_their_own_answers() {
    let server = TestServer::default().await;
    let url = server.url("/");
    let mut clients = Vec::new();
    for client_no in 0..32u64 {
        let url = url.clone();
        clients.push(tokio::spawn(async move {
            let protocols = each_protocol();
            let client = &protocols[client_no as usize % protocols.len()];
            let mut seed = client_no.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mut next = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 2_000_000_001) as i64 - 1_000_000_000
            };
            for call in 0..50 {
                let (a, b) = (next(), next());
                let id = format!("{client_no}-{call}");
                let body = if call % 2 == 0 {
                    format!(r#"{{"jsonrpc":"2.0","method":"add","params":[{a},{b}],"id":"{id}"}}"#)
                } else {
                    format!(r#"{{"jsonrpc":"2.0","method":"add","params":{{"b":{b},"a":{a}}},"id":"{id}"}}"#)
                };
                let reply = post(client, &url, &body).await;
                assert_eq!(reply.json(), json!({"jsonrpc":"2.0","result":a + b,"id":id}));
            }
        }));
    }
    for client in clients {
        tokio::time::timeout(Duration::from_secs(60), client)
            .await
            .expect("in time")
            .unwrap();
    }
}

/// A service that is not ready the first time each clone is asked, then is.
#[derive(Clone)]
struct ReadySecondTime<S> {
    inner: S,
    asked: bool,
    pending: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl<S, R> tower_service::Service<R> for ReadySecondTime<S>
where
    S: tower_service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        if !self.asked {
            self.asked = true;
            self.pending.fetch_add(1, Ordering::SeqCst);
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

#[tokio::test]
async fn a_service_not_ready_at_once_is_asked_again_and_answers() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let pending = std::sync::Arc::default();
    let service = ReadySecondTime {
        inner: rpc_hyper::RpcService::new(router()),
        asked: false,
        pending: std::sync::Arc::clone(&pending),
    };
    let server = tokio::spawn(std::future::IntoFuture::into_future(
        rpc_hyper::serve_service(listener, service),
    ));
    for client in each_protocol() {
        let reply = post(&client, &format!("http://{addr}/"), ADD).await;
        assert_eq!(reply.body, r#"{"jsonrpc":"2.0","result":5,"id":1}"#);
    }
    assert_eq!(
        pending.load(Ordering::SeqCst),
        each_protocol().len(),
        "each request was first refused"
    );
    server.abort();
}

#[tokio::test]
async fn a_result_over_the_size_limit_is_answered_with_an_error_not_sent() {
    let server = TestServer::start(|e| e.max_body_size(1024), |s| s).await;
    let batch = r#"[{"jsonrpc":"2.0","method":"big","params":[2000],"id":1},{"jsonrpc":"2.0","method":"big","params":[3],"id":2}]"#;
    let reply = post(&http1(), &server.url("/"), batch).await;
    assert_eq!(
        reply.json(),
        json!([
            {"jsonrpc":"2.0","error":{"code":-32008,"message":"Result too large","data":{"limit":1024}},"id":1},
            {"jsonrpc":"2.0","result":"xxx","id":2}
        ])
    );
}
