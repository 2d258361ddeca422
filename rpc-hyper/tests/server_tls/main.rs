//! The server over TLS (`Serve::tls`), with certificates the test makes (rcgen): HTTP/1.1, h2
//! by ALPN and `wss://` on one port, our client against it; a client certificate in the call
//! context; rotation without a restart; a client without the certificate the server
//! requires; the stream transport over TLS. What else must be turned away is in `refusals`.
#![cfg(all(feature = "client", feature = "tls", feature = "ws", feature = "http2"))]

use std::net::SocketAddr;
use std::time::Duration;

use rpc_core::{rpc_method, rpc_subscription, Ext, Router, Sink, Version};
use rpc_hyper::tls::{ClientCertificate, ServerTls};
use rpc_hyper::Client;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

mod parking;
#[path = "../pki/mod.rs"]
mod pki;
#[cfg(feature = "proxy-protocol")]
mod proxied;
mod refusals;
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

/// `len` bytes of text (at most 1 MiB).
#[rpc_method]
fn big(len: usize) -> String {
    "x".repeat(len.min(1 << 20))
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

pub(crate) fn router() -> Router {
    let mut router = Router::new();
    router.register(add::method()).unwrap();
    router.register(version::method()).unwrap();
    router.register(whoami::method()).unwrap();
    router.register(countdown::method()).unwrap();
    router.register(big::method()).unwrap();
    router.register(peer::method()).unwrap();
    router
}

/// The peer the call's context names.
#[rpc_method]
fn peer(peer: Ext<'_, rpc_core::PeerAddr>) -> String {
    peer.0.to_string()
}

/// Our server on loopback with `tls`, at most `max` connections at once.
pub(crate) async fn serve(tls: ServerTls, max: usize) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = rpc_hyper::serve(listener, router())
        .max_connections(max)
        .tls(tls);
    tokio::spawn(std::future::IntoFuture::into_future(server));
    addr
}

pub(crate) fn server_tls(ca: &Ca) -> ServerTls {
    let leaf = ca.issue(&["localhost"], "server", false);
    ServerTls::from_pem(leaf.cert_pem.as_bytes(), leaf.key_pem.as_bytes()).unwrap()
}

pub(crate) fn client(url: &str, ca: &Ca) -> rpc_hyper::ClientBuilder {
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

/// The stream transport's TCP listener takes TLS too: newline-delimited JSON-RPC inside it,
/// the client's certificate in the context.
#[cfg(feature = "tcp")]
#[tokio::test]
async fn the_stream_transport_serves_over_tls() {
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
    let connector = ca.connector(Some(&carol));
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

#[tokio::test]
async fn alpn_chooses_h2_when_the_client_offers_it() {
    let ca = Ca::new("test CA");
    let addr = serve(server_tls(&ca), 64).await;
    for (offered, chosen) in [
        (&[&b"h2"[..], b"http/1.1"][..], Some(&b"h2"[..])),
        (&[&b"http/1.1"[..]][..], Some(&b"http/1.1"[..])),
        (&[][..], None),
    ] {
        let mut config = ca.client_config(None);
        config.alpn_protocols = offered.iter().map(|p| p.to_vec()).collect();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tcp = TcpStream::connect(addr).await.unwrap();
        let tls = connector.connect(name, tcp).await.unwrap();
        assert_eq!(
            tls.get_ref().1.alpn_protocol(),
            chosen,
            "offered {offered:?}"
        );
    }
}
