//! The client's HTTP/1.1 answers, byte by byte: every framing a server may use (a length,
//! chunks with extensions and trailers, the close), informational answers, and the ways an
//! answer can be malformed, each against a raw server that writes exactly the bytes given.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::read_request;
use rpc_hyper::Client;
use tokio::io::AsyncWriteExt;

/// The answer to `add(1, 2)` with the client's first id.
const ANSWER: &str = r#"{"jsonrpc":"2.0","result":3,"id":1}"#;

/// A server that reads each request whole and writes `answer(request number)` in pieces of
/// `piece` bytes, pausing between them so that they come as separate reads; it closes a
/// connection after an answer when `close` says so. It counts the connections it accepts.
async fn raw_server(
    answer: impl Fn(usize) -> Vec<u8> + Send + Sync + 'static,
    piece: usize,
    close: bool,
) -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let answer = Arc::new(answer);
    let task = tokio::spawn({
        let accepted = Arc::clone(&accepted);
        async move {
            let requests = Arc::new(AtomicUsize::new(0));
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                accepted.fetch_add(1, Ordering::SeqCst);
                let (answer, requests) = (Arc::clone(&answer), Arc::clone(&requests));
                tokio::spawn(async move {
                    stream.set_nodelay(true).unwrap();
                    while read_request(&mut stream).await {
                        let bytes = answer(requests.fetch_add(1, Ordering::SeqCst));
                        for chunk in bytes.chunks(piece.max(1)) {
                            if stream.write_all(chunk).await.is_err() {
                                return;
                            }
                            if piece < bytes.len() {
                                tokio::time::sleep(Duration::from_millis(1)).await;
                            }
                        }
                        if close {
                            return;
                        }
                    }
                });
            }
        }
    });
    (url, accepted, task)
}

/// `body` in chunks of `size`, with an extension on the first and a trailer at the end.
fn chunked(body: &str, size: usize) -> String {
    let mut out = String::new();
    for (n, chunk) in body.as_bytes().chunks(size).enumerate() {
        let extension = if n == 0 { ";name=value" } else { "" };
        out += &format!("{:x}{extension}\r\n", chunk.len());
        out += std::str::from_utf8(chunk).unwrap();
        out += "\r\n";
    }
    out + "0\r\nx-checksum: none\r\n\r\n"
}

#[tokio::test]
async fn every_framing_in_any_pieces_gives_the_answer() {
    type Answer = fn(usize) -> Vec<u8>;
    let framings: [(&str, Answer, bool); 6] = [
        (
            "length",
            |_| {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{ANSWER}",
                    ANSWER.len()
                )
                .into_bytes()
            },
            false,
        ),
        (
            "chunks of 1",
            |_| {
                format!(
                    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{}",
                    chunked(ANSWER, 1)
                )
                .into_bytes()
            },
            false,
        ),
        (
            "chunks of 10",
            |_| {
                format!(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n{}",
                    chunked(ANSWER, 10)
                )
                .into_bytes()
            },
            false,
        ),
        (
            "100 Continue first",
            |_| {
                format!("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{ANSWER}", ANSWER.len()).into_bytes()
            },
            false,
        ),
        (
            "HTTP/1.0 up to the close",
            |_| format!("HTTP/1.0 200 OK\r\n\r\n{ANSWER}").into_bytes(),
            true,
        ),
        // A coding other than chunked, last: up to the close, whatever the length says.
        (
            "a coding, up to the close",
            |_| {
                format!("HTTP/1.1 200 OK\r\ntransfer-encoding: identity\r\ncontent-length: 5\r\n\r\n{ANSWER}").into_bytes()
            },
            true,
        ),
    ];
    for (name, answer, close) in framings {
        for piece in [1, 3, 16, 4096] {
            let (url, _, server) = raw_server(answer, piece, close).await;
            let client = Client::builder(&url)
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let sum = client.request::<i64>("add", (1, 2)).await;
            assert_eq!(
                sum.unwrap_or_else(|err| panic!("{name} in pieces of {piece}: {err:?}")),
                3
            );
            server.abort();
        }
    }
}

#[tokio::test]
async fn a_connection_is_kept_only_when_the_server_keeps_it() {
    // Each answer carries the id of the request it answers (1, 2, 3).
    let keep = |n: usize| {
        let body = format!(r#"{{"jsonrpc":"2.0","result":3,"id":{}}}"#, n + 1);
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let (url, accepted, server) = raw_server(keep, 4096, false).await;
    let client = Client::builder(&url).build().unwrap();
    for _ in 0..3 {
        assert_eq!(client.request::<i64>("add", (1, 2)).await.unwrap(), 3);
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "kept alive");
    server.abort();

    // `Connection: close`, and HTTP/1.0 without keep-alive: the server leaves the socket
    // open, so only the client's reading of the head keeps it from reusing the connection.
    for version in ["HTTP/1.1 200 OK\r\nconnection: close", "HTTP/1.0 200 OK"] {
        let answer = move |n: usize| {
            let body = format!(r#"{{"jsonrpc":"2.0","result":3,"id":{}}}"#, n + 1);
            format!("{version}\r\ncontent-length: {}\r\n\r\n{body}", body.len()).into_bytes()
        };
        let (url, accepted, server) = raw_server(answer, 4096, false).await;
        let client = Client::builder(&url).build().unwrap();
        for _ in 0..3 {
            assert_eq!(client.request::<i64>("add", (1, 2)).await.unwrap(), 3);
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            3,
            "{version}: one per call"
        );
        server.abort();
    }
}

#[tokio::test]
async fn a_malformed_answer_gets_the_documented_error_and_the_client_goes_on() {
    type Check = fn(&rpc_hyper::client::Error) -> bool;
    let protocol: Check = |e| e.is_protocol();
    let big_header = format!(
        "HTTP/1.1 200 OK\r\nx-big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let many_headers = format!("HTTP/1.1 200 OK\r\n{}\r\n", "x-h: 1\r\n".repeat(65));
    let cases: Vec<(&str, String, Check)> = vec![
        ("not HTTP", "SSH-2.0-OpenSSH\r\n\r\n".into(), protocol),
        ("a bad status", "HTTP/1.1 2x0 OK\r\n\r\n".into(), protocol),
        (
            "a bad length",
            "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n".into(),
            protocol,
        ),
        (
            "a signed length",
            "HTTP/1.1 200 OK\r\ncontent-length: +2\r\n\r\n12".into(),
            protocol,
        ),
        (
            "endless 100 Continue",
            "HTTP/1.1 100 Continue\r\n\r\n".repeat(20),
            protocol,
        ),
        (
            "two lengths",
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n12".into(),
            protocol,
        ),
        (
            "a bad chunk size",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n".into(),
            protocol,
        ),
        (
            "a chunk longer than its size",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n".into(),
            protocol,
        ),
        ("a head too long", big_header, protocol),
        ("too many headers", many_headers, protocol),
        (
            "a length past the limit",
            "HTTP/1.1 200 OK\r\ncontent-length: 2000000\r\n\r\n".into(),
            |e| e.is_too_large(),
        ),
        (
            "chunks past the limit",
            format!(
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{}",
                ("80000\r\n".to_owned() + &"a".repeat(0x80000) + "\r\n").repeat(3)
            ),
            |e| e.is_too_large(),
        ),
        (
            "up to the close, past the limit",
            format!("HTTP/1.0 200 OK\r\n\r\n{}", "a".repeat((1 << 20) + 10)),
            |e| e.is_too_large(),
        ),
        (
            "a chunk size past any length",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffff\r\n".into(),
            |e| e.is_too_large(),
        ),
        ("nothing", String::new(), |e| e.is_transport()),
        (
            "a body cut short",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\nabc".into(),
            |e| e.is_transport(),
        ),
    ];
    for (name, answer, expected) in cases {
        let bytes = answer.into_bytes();
        let (url, _, server) = raw_server(move |_| bytes.clone(), 64 * 1024, true).await;
        let client = Client::builder(&url)
            .max_response_size(1 << 20)
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        for _ in 0..2 {
            let err = client.request::<i64>("add", (1, 2)).await.unwrap_err();
            assert!(expected(&err), "{name}: {err:?}");
        }
        server.abort();
    }
}

/// A server that answers 413 after the head, then neither reads nor closes: the client stops
/// writing and takes the answer, well before its time limit, and does not reuse the
/// connection it left half-written.
#[tokio::test]
async fn an_answer_before_the_whole_body_is_taken_though_the_server_neither_reads_nor_closes() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let server = tokio::spawn({
        let accepted = Arc::clone(&accepted);
        async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut head = [0u8; 1024];
                    let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut head).await;
                    let body = r#"{"jsonrpc":"2.0","error":{"code":-32600,"message":"too large"},"id":null}"#;
                    let answer = format!(
                        "HTTP/1.1 413 Payload Too Large\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                    tokio::time::sleep(Duration::from_secs(30)).await; // neither reads nor closes
                });
            }
        }
    });
    let client = Client::builder(&url)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for _ in 0..2 {
        let started = std::time::Instant::now();
        let err = client
            .request::<i64>("echo", ("x".repeat(16 << 20),))
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(413), "{err:?}");
        assert_eq!(err.rpc().map(|e| e.code()), Some(-32600));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "a half-written connection is not reused"
    );
    server.abort();
}
