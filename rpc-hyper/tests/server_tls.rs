//! The server over TLS (`Serve::tls`), with certificates the test makes (rcgen): HTTP/1.1, h2
//! by ALPN and `wss://` on one port, our client against it; a client certificate in the call
//! context; rotation without a restart; and what must be turned away: plaintext HTTP and
//! garbage, a TLS 1.0 client, a client without the certificate the server requires, a
//! handshake that stalls (cut at its limit, its slot given back).
#![cfg(all(feature = "client", feature = "tls", feature = "ws", feature = "http2"))]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rpc_core::{rpc_method, rpc_subscription, Ext, Router, Sink, Version};
use rpc_hyper::tls::{ClientCertificate, ServerTls};
use rpc_hyper::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod pki;
use pki::{Ca, Leaf};

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// The HTTP version the call came over.
#[rpc_method]
fn version(version: Ext<'_, Version>) -> String {
    format!("{:?}", *version)
}

/// The common name of the caller's certificate, if it showed one.
#[rpc_method]
fn whoami(client: Option<Ext<'_, ClientCertificate>>) -> Option<String> {
    client.and_then(|client| client.common_name().map(str::to_owned))
}

/// Counts down from `from` to 0.
#[rpc_subscription]
async fn countdown(from: u64, sink: Sink<u64>) {
    for n in (0..=from).rev() {
        if sink.send(n).await.is_err() {
            return;
        }
    }
}

fn router() -> Router {
    let mut router = Router::new();
    router.register(add::method()).unwrap();
    router.register(version::method()).unwrap();
    router.register(whoami::method()).unwrap();
    router.register(countdown::method()).unwrap();
    router
}

/// Our server on loopback with `tls`, at most `max` connections at once.
async fn serve(tls: ServerTls, max: usize) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = rpc_hyper::serve(listener, router())
        .max_connections(max)
        .tls(tls);
    tokio::spawn(std::future::IntoFuture::into_future(server));
    addr
}

fn server_tls(ca: &Ca) -> ServerTls {
    let leaf = ca.issue(&["localhost"], "server", false);
    ServerTls::from_pem(leaf.cert_pem.as_bytes(), leaf.key_pem.as_bytes()).unwrap()
}

fn client(url: &str, ca: &Ca) -> rpc_hyper::ClientBuilder {
    Client::builder(url)
        .add_root_certificates_pem(ca.pem.as_bytes())
        .timeout(Duration::from_secs(20))
}

fn with_identity(builder: rpc_hyper::ClientBuilder, leaf: &Leaf) -> rpc_hyper::ClientBuilder {
    let rustls::pki_types::PrivateKeyDer::Pkcs8(key) = &leaf.key else {
        unreachable!("rcgen's keys are PKCS#8")
    };
    let chain = leaf.chain.iter().map(|c| c.to_vec()).collect();
    builder.client_certificate(chain, key.secret_pkcs8_der().to_vec())
}

#[tokio::test]
async fn http1_h2_and_wss_are_served_on_one_tls_port() {
    use futures_util::StreamExt;
    let ca = Ca::new("test CA");
    let addr = serve(server_tls(&ca), 64).await;
    let port = addr.port();

    let http1 = client(&format!("https://localhost:{port}/"), &ca)
        .build()
        .unwrap();
    let sum: i64 = http1.request("add", [2, 3]).await.expect("over https");
    assert_eq!(sum, 5);
    let over: String = http1.request("version", ()).await.unwrap();
    assert_eq!(over, "HTTP/1.1");

    let h2 = client(&format!("https://localhost:{port}/"), &ca)
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let over: String = h2.request("version", ()).await.expect("over h2");
    assert_eq!(over, "HTTP/2.0", "h2 chosen by ALPN");
    let sums = futures_util::future::join_all((0..20).map(|n| {
        let h2 = h2.clone();
        async move { h2.request::<i64>("add", [n, n]).await }
    }))
    .await;
    for (n, sum) in sums.into_iter().enumerate() {
        assert_eq!(sum.expect("concurrent over h2"), 2 * n as i64);
    }

    let wss = client(&format!("wss://localhost:{port}/"), &ca)
        .build()
        .unwrap();
    let sum: i64 = wss.request("add", [20, 22]).await.expect("over wss");
    assert_eq!(sum, 42);
    let items: Vec<u64> = wss
        .subscribe(countdown::subscribe(3))
        .await
        .expect("subscribed over wss")
        .take(4)
        .map(|item| item.expect("an item"))
        .collect()
        .await;
    assert_eq!(items, [3, 2, 1, 0]);
}

#[tokio::test]
async fn a_verified_client_certificate_is_in_the_context_and_one_is_required() {
    let ca = Ca::new("server CA");
    let clients = Ca::new("clients CA");
    let tls = server_tls(&ca)
        .require_client_certificates(clients.pem.as_bytes())
        .unwrap();
    let port = serve(tls, 64).await.port();
    let alice = clients.issue(&["alice.test"], "alice", false);
    for url in [
        format!("https://localhost:{port}/"),
        format!("wss://localhost:{port}/"),
    ] {
        let with = with_identity(client(&url, &ca), &alice).build().unwrap();
        let who: Option<String> = with.request("whoami", ()).await.expect("mutual TLS");
        assert_eq!(who.as_deref(), Some("alice"), "over {url}");
    }

    // No certificate, or one another CA signed: refused in the handshake.
    let stranger = Ca::new("stranger CA").issue(&["mallory.test"], "mallory", false);
    let url = format!("https://localhost:{port}/");
    for builder in [
        client(&url, &ca),
        with_identity(client(&url, &ca), &stranger),
    ] {
        let refused = builder
            .build()
            .unwrap()
            .request::<Option<String>>("whoami", ())
            .await
            .expect_err("refused");
        assert!(
            refused.is_tls() || refused.is_transport(),
            "refused in the handshake: {refused}"
        );
    }
}

#[tokio::test]
async fn client_certificates_may_be_optional() {
    let ca = Ca::new("server CA");
    let clients = Ca::new("clients CA");
    let tls = server_tls(&ca)
        .allow_client_certificates(clients.pem.as_bytes())
        .unwrap();
    let port = serve(tls, 64).await.port();
    let url = format!("https://localhost:{port}/");
    let anonymous: Option<String> = client(&url, &ca)
        .build()
        .unwrap()
        .request("whoami", ())
        .await
        .expect("let in without a certificate");
    assert_eq!(anonymous, None);
    let bob = clients.issue(&["bob.test"], "bob", false);
    let named: Option<String> = with_identity(client(&url, &ca), &bob)
        .build()
        .unwrap()
        .request("whoami", ())
        .await
        .unwrap();
    assert_eq!(named.as_deref(), Some("bob"));
}

#[tokio::test]
async fn a_reload_rotates_the_certificate_without_a_restart() {
    let dir = std::env::temp_dir().join(format!("rpc-tls-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let write = |leaf: &Leaf| {
        std::fs::write(&cert, &leaf.cert_pem).unwrap();
        std::fs::write(&key, &leaf.key_pem).unwrap();
    };
    let (old, new) = (Ca::new("old CA"), Ca::new("new CA"));
    write(&old.issue(&["localhost"], "server", false));
    let tls = ServerTls::from_pem_files(&cert, &key).unwrap();
    let port = serve(tls.clone(), 64).await.port();
    let url = format!("https://localhost:{port}/");
    let kept = client(&url, &old).build().unwrap();
    let sum: i64 = kept
        .request("add", [1, 1])
        .await
        .expect("the old certificate");
    assert_eq!(sum, 2);

    write(&new.issue(&["localhost"], "server", false));
    tls.reload().expect("reloaded");
    let sum: i64 = client(&url, &new)
        .build()
        .unwrap()
        .request("add", [2, 2])
        .await
        .expect("the new certificate, no restart");
    assert_eq!(sum, 4);
    let stale = client(&url, &old)
        .build()
        .unwrap()
        .request::<i64>("add", [3, 3])
        .await
        .expect_err("a new connection gets the new certificate");
    assert!(stale.to_string().contains("unknown issuer"), "{stale}");
    // The connection opened before keeps its session.
    let sum: i64 = kept.request("add", [4, 4]).await.expect("kept");
    assert_eq!(sum, 8);

    // A broken file is refused, and the certificate in use is kept.
    std::fs::write(&key, "not a key").unwrap();
    assert!(tls.reload().is_err());
    let sum: i64 = client(&url, &new)
        .build()
        .unwrap()
        .request("add", [5, 5])
        .await
        .expect("still the new certificate");
    assert_eq!(sum, 10);
    std::fs::remove_dir_all(&dir).ok();
}

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
    use std::sync::Arc;
    let ca = Ca::new("test CA");
    let max = 150;
    // Long enough for fifty handshakes at once on two cores in a debug build.
    let tls = server_tls(&ca).handshake_timeout(Duration::from_secs(3));
    let addr = serve(tls, max).await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der.clone()).unwrap();
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
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

/// The stream transport's TCP listener takes TLS too: newline-delimited JSON-RPC inside it,
/// the client's certificate in the context.
#[cfg(feature = "tcp")]
#[tokio::test]
async fn the_stream_transport_serves_over_tls() {
    use std::sync::Arc;
    use tokio::io::AsyncBufReadExt;
    let ca = Ca::new("server CA");
    let clients = Ca::new("clients CA");
    let tls = server_tls(&ca)
        .require_client_certificates(clients.pem.as_bytes())
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = rpc_hyper::stream::serve_tcp(listener, router()).tls(tls);
    tokio::spawn(std::future::IntoFuture::into_future(server));

    let carol = clients.issue(&["carol.test"], "carol", false);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der.clone()).unwrap();
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(carol.chain.clone(), carol.key.clone_key())
        .unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = connector.connect(name, tcp).await.expect("a handshake");
    let (read, mut write) = tokio::io::split(tls);
    write
        .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[2,3],\"id\":1}\n{\"jsonrpc\":\"2.0\",\"method\":\"whoami\",\"id\":2}\n")
        .await
        .unwrap();
    write.flush().await.unwrap();
    let mut lines = tokio::io::BufReader::new(read).lines();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("answered in time")
            .unwrap()
            .expect("a line");
        answers.push(line);
    }
    answers.sort();
    assert_eq!(
        answers,
        [
            r#"{"jsonrpc":"2.0","result":"carol","id":2}"#,
            r#"{"jsonrpc":"2.0","result":5,"id":1}"#,
        ]
    );
}
