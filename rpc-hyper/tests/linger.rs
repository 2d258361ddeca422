//! A body refused before it is read in full (`413`, and the other refusals of a request head)
//! is answered at once; over HTTP/1 the connection then reads and discards the rest of the
//! body, within a bound, before it closes. Without that, closing a socket with unread bytes
//! resets it, and a client still writing its body never reads the answer.

mod common;

use std::time::{Duration, Instant};

use common::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const MIB: usize = 1024 * 1024;
const ADD: &str = r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#;

/// Writes `len` bytes of body in 64 KiB pieces, pausing between them as a slow client
/// would; an error if the server cut the connection first.
async fn write_slowly(stream: &mut TcpStream, len: usize, framed: impl Fn(&[u8]) -> Vec<u8>) {
    let piece = vec![b' '; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let now = left.min(piece.len());
        tokio::time::timeout(STEP, stream.write_all(&framed(&piece[..now])))
            .await
            .expect("written in time")
            .expect("the server kept reading the body it refused");
        left -= now;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test]
async fn a_client_that_writes_11_mib_slowly_then_reads_sees_the_413() {
    // The default limit is 10 MiB. The declared length is refused before any of the body
    // is read; the client writes all of it anyway, and only then reads.
    let server = TestServer::start(|e| e, |s| s).await;
    let mut stream = connect(server.addr).await;
    let len = 11 * MIB;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
    );
    write_all(&mut stream, head.as_bytes()).await;
    write_slowly(&mut stream, len, <[u8]>::to_vec).await;
    let (status, body) = read_response(&mut stream).await.expect("the answer");
    assert_eq!((status, body.as_str()), (413, "Payload Too Large"));
    assert!(
        closed_within(&mut stream, STEP).await,
        "left open after a 413"
    );
    // Everyone else is served meanwhile and after.
    assert_eq!(post(&http1(), &server.url("/"), ADD).await.status, 200);
}

#[tokio::test]
async fn a_chunked_body_refused_midway_is_read_to_its_end_before_the_close() {
    // Chunked: the server reads 10 MiB, answers, and discards the last MiB as it comes.
    let server = TestServer::start(|e| e, |s| s).await;
    let mut stream = connect(server.addr).await;
    let head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    write_all(&mut stream, head.as_bytes()).await;
    write_slowly(&mut stream, 11 * MIB, |piece| {
        let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
        chunk.extend_from_slice(piece);
        chunk.extend_from_slice(b"\r\n");
        chunk
    })
    .await;
    write_all(&mut stream, b"0\r\n\r\n").await;
    let (status, _) = read_response(&mut stream).await.expect("the answer");
    assert_eq!(status, 413);
}

#[tokio::test]
async fn the_other_refusals_of_a_head_with_a_body_linger_too() {
    // A wrong content type, with a body that does not fit hyper's buffer.
    let server = TestServer::start(|e| e, |s| s).await;
    let mut stream = connect(server.addr).await;
    let len = 2 * MIB;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: {len}\r\n\r\n"
    );
    write_all(&mut stream, head.as_bytes()).await;
    write_slowly(&mut stream, len, <[u8]>::to_vec).await;
    let (status, _) = read_response(&mut stream).await.expect("the answer");
    assert_eq!(status, 415);
}

#[tokio::test]
async fn a_client_that_never_stops_writing_is_cut_off() {
    // With a 1 KiB limit, at most 1 MiB is read past the answer: a client that goes on
    // writing is then cut off (past what the kernel buffers), while the answer was there
    // for it to read.
    let server = TestServer::start(|e| e.max_body_size(1024), |s| s).await;
    let stream = connect(server.addr).await;
    let (mut reader, mut writer) = stream.into_split();
    let head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n";
    tokio::time::timeout(STEP, writer.write_all(head.as_bytes()))
        .await
        .unwrap()
        .unwrap();
    let reading = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(STEP, reader.read_to_end(&mut answer)).await;
        answer
    });
    let piece = vec![b' '; 64 * 1024];
    let mut written = 0usize;
    let cut = tokio::time::timeout(STEP, async {
        // Bounded: 64 MiB at most.
        while written < 64 * MIB {
            if writer.write_all(&piece).await.is_err() {
                return true;
            }
            written += piece.len();
        }
        false
    })
    .await
    .expect("cut off in time");
    assert!(
        cut,
        "a client writing 64 MiB past a 1 KiB limit was never cut off"
    );
    let answer = reading.await.unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 413"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn a_client_that_stops_writing_midway_is_closed_after_two_idle_seconds() {
    let server = TestServer::start(|e| e.max_body_size(1024), |s| s).await;
    let mut stream = connect(server.addr).await;
    let head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
    write_all(&mut stream, head.as_bytes()).await;
    write_all(&mut stream, &[b' '; 4096]).await;
    let (status, _) = read_response(&mut stream).await.expect("the answer");
    assert_eq!(status, 413);
    // Half a second idle, the server still reads: writes go through and nothing resets them.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..3 {
        write_all(&mut stream, &[b' '; 4096]).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Well past two idle seconds it has let go: a write is answered by a reset, and a
    // later one fails.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let started = Instant::now();
    let mut failed = false;
    for _ in 0..50 {
        if stream.write_all(&[b' '; 4096]).await.is_err() {
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        failed,
        "the connection was still open {:?} after 4 idle seconds",
        started.elapsed()
    );
}

/// Refused with a body still coming (a 413 on a declared length), and silent after.
async fn refused_and_silent(server: &TestServer) -> TcpStream {
    let mut stream = connect(server.addr).await;
    let head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
    write_all(&mut stream, head.as_bytes()).await;
    let (status, _) = read_response(&mut stream).await.expect("the answer");
    assert_eq!(status, 413);
    stream
}

#[tokio::test]
async fn closing_outright_ends_a_linger_at_once() {
    let server = TestServer::start(
        |e| e.max_body_size(1024),
        |s| s.drain_timeout(Duration::from_millis(200)),
    )
    .await;
    let _lingering = refused_and_silent(&server).await;
    // The drain waits for the lingering connection until its timeout, then closes it.
    let started = Instant::now();
    server.stop().await.unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "stopped after {took:?}");
}

#[tokio::test]
async fn an_answer_with_no_body_to_come_leaves_nothing_to_linger_for() {
    let server = TestServer::start(|e| e, |s| s).await;
    // A bodiless GET refused with 405; hyper keeps the connection, and serves a call on it.
    let mut stream = connect(server.addr).await;
    write_all(&mut stream, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(read_response(&mut stream).await.expect("answered").0, 405);
    let call = r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#;
    let post = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{call}",
        call.len()
    );
    write_all(&mut stream, post.as_bytes()).await;
    assert_eq!(read_response(&mut stream).await.expect("answered").0, 200);
    // The drain closes the idle connection, and nothing holds it open though the client
    // stays silent.
    let started = Instant::now();
    server.stop().await.unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "stopped after {took:?}");
    assert!(closed_within(&mut stream, STEP).await);
}
