//! What the TLS port turns away, in order: plaintext HTTP and garbage, a TLS 1.0 client, a
//! handshake that stalls (cut at its limit, its slot given back); and a thousand handshakes
//! with a hundred abandoned, leaking no slot and no descriptor.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::pki::Ca;
use super::{client, serve, server_tls};

/// What the server sends back to `bytes` on a fresh connection, until it closes (within 5 s).
async fn answer_to(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer))
        .await
        .expect("closed in time")
        .expect("closed in order, not reset");
    answer
}

#[tokio::test]
async fn plaintext_http_and_garbage_on_the_tls_port_are_closed_in_order() {
    let ca = Ca::new("test CA");
    let addr = serve(server_tls(&ca), 64).await;
    let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    let answer = answer_to(addr, request).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("https://"), "{answer}");
    assert!(answer_to(addr, b"\x00\x01 garbage \xff").await.is_empty());
    // Served as ever.
    let sum: i64 = client(&format!("https://localhost:{}/", addr.port()), &ca)
        .build()
        .unwrap()
        .request("add", [2, 3])
        .await
        .unwrap();
    assert_eq!(sum, 5);
}

/// A ClientHello that offers TLS 1.0 only (no `supported_versions`, the legacy version 3.1).
fn tls10_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x01]; // client_version: TLS 1.0
    body.extend_from_slice(&[7; 32]); // random
    body.push(0); // no session id
                  // ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ECDHE_RSA_WITH_AES_128_GCM_SHA256 (which TLS 1.2
                  // has, so it is the version that is refused), ECDHE_RSA_WITH_AES_128_CBC_SHA
    body.extend_from_slice(&[0, 6, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x13]);
    body.extend_from_slice(&[1, 0]); // no compression
                                     // signature_algorithms (which rustls requires before it looks at the version):
                                     // ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256
    body.extend_from_slice(&[0, 10, 0, 0x0d, 0, 6, 0, 4, 4, 3, 8, 4]);
    let mut handshake = vec![1, 0, 0, body.len() as u8]; // ClientHello
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01, 0, handshake.len() as u8];
    record.extend_from_slice(&handshake);
    record
}

#[tokio::test]
async fn a_tls_1_0_client_is_refused_with_a_protocol_version_alert() {
    let ca = Ca::new("test CA");
    let addr = serve(server_tls(&ca), 64).await;
    let answer = answer_to(addr, &tls10_client_hello()).await;
    // An alert record: fatal (2), protocol_version (70).
    assert!(answer.len() >= 7, "{answer:?}");
    assert_eq!(answer[0], 0x15, "an alert: {answer:?}");
    assert_eq!(&answer[5..7], &[2, 70], "protocol_version: {answer:?}");
}

/// The start of a ClientHello, and then nothing.
const HALF_A_HELLO: &[u8] = b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03";

#[tokio::test]
async fn a_stalled_handshake_is_cut_at_the_limit_and_holds_its_slot_no_longer() {
    let ca = Ca::new("test CA");
    let limit = Duration::from_millis(400);
    let addr = serve(server_tls(&ca).handshake_timeout(limit), 1).await;
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    stalled.write_all(HALF_A_HELLO).await.unwrap();
    let started = Instant::now();
    // The one slot is the stalled handshake's: this call waits for it to be cut.
    let waiting = tokio::spawn({
        let client = client(&format!("https://localhost:{}/", addr.port()), &ca)
            .build()
            .unwrap();
        async move { client.request::<i64>("add", [1, 2]).await }
    });
    tokio::time::sleep(limit / 2).await;
    assert!(
        !waiting.is_finished(),
        "served while the stalled handshake held the slot"
    );
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut rest))
        .await
        .expect("cut in time")
        .ok();
    let cut = started.elapsed();
    assert!(
        cut >= limit - Duration::from_millis(50),
        "cut early: {cut:?}"
    );
    assert!(cut < limit * 5, "cut late: {cut:?}");
    let sum = waiting
        .await
        .unwrap()
        .expect("served once the slot came back");
    assert_eq!(sum, 3);
}

/// A call, on a connection to be closed once it is answered.
const ADD_AND_CLOSE: &[u8] = b"POST / HTTP/1.1\r\nHost: l\r\nContent-Type: application/json\r\nContent-Length: 54\r\nConnection: close\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],\"id\":1}";

/// How many file descriptors this process holds.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_handshakes_with_a_hundred_abandoned_leak_nothing() {
    let ca = Ca::new("test CA");
    let max = 150;
    // Long enough for fifty handshakes at once on two cores in a debug build.
    let tls = server_tls(&ca).handshake_timeout(Duration::from_secs(3));
    let addr = serve(tls, max).await;
    let connector = ca.connector(None);
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    // Warm up, then count the descriptors: the runtime's own are open by now.
    let handshake = |connector: tokio_rustls::TlsConnector| {
        let name = name.clone();
        async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut tls = connector.connect(name, tcp).await.expect("a handshake");
            tls.write_all(ADD_AND_CLOSE).await.expect("written");
            tls.flush().await.expect("flushed");
            let mut answer = Vec::new();
            tls.read_to_end(&mut answer)
                .await
                .expect("read to the server's close_notify");
            answer
        }
    };
    assert!(String::from_utf8_lossy(&handshake(connector.clone()).await).contains("\"result\":3"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = open_fds();

    // A hundred abandoned mid-handshake: half leave, half stall until cut.
    let mut abandoned = Vec::new();
    for n in 0..100 {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(HALF_A_HELLO).await.unwrap();
        if n % 2 == 0 {
            drop(tcp);
        } else {
            abandoned.push(tcp);
        }
    }
    // A thousand handshakes, fifty at a time, each a call.
    let started = Instant::now();
    for _ in 0..20 {
        let answers =
            futures_util::future::join_all((0..50).map(|_| handshake(connector.clone()))).await;
        for answer in answers {
            let answer = String::from_utf8_lossy(&answer).into_owned();
            assert!(answer.contains("\"result\":3"), "{answer}");
        }
    }
    assert!(started.elapsed() < Duration::from_secs(120));
    drop(abandoned);

    // Every slot back: as many connections as the limit, open at once, all handshaken.
    let held = futures_util::future::join_all((0..max).map(|_| {
        let connector = connector.clone();
        let name = name.clone();
        async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            tokio::time::timeout(Duration::from_secs(20), connector.connect(name, tcp))
                .await
                .expect("a slot for each")
                .expect("a handshake")
        }
    }))
    .await;
    drop(held);
    // And every descriptor closed.
    let deadline = Instant::now() + Duration::from_secs(10);
    while open_fds() > before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(open_fds() <= before, "{} open, {before} before", open_fds());
}

#[tokio::test]
async fn the_handshake_has_its_own_limit_and_the_header_timeout_starts_after_it() {
    let ca = Ca::new("test CA");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tls = server_tls(&ca).handshake_timeout(Duration::from_secs(5));
    let server = rpc_hyper::serve(listener, super::router())
        .header_read_timeout(Duration::from_millis(300))
        .tls(tls);
    tokio::spawn(std::future::IntoFuture::into_future(server));
    // Quiet for three header timeouts before the handshake: within the handshake's limit.
    let tcp = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = ca
        .connector(None)
        .connect(name, tcp)
        .await
        .expect("a handshake");
    tls.write_all(ADD_AND_CLOSE).await.unwrap();
    tls.flush().await.unwrap();
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer).await.expect("answered");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.contains("\"result\":3"), "{answer}");
}
