//! The client over TLS (`https://`, `wss://`), against a TLS server of hyper and tokio-rustls in front
//! of our service, with certificates the test makes (rcgen): a private CA trusted with
//! `add_root_certificate`, h2 by ALPN, kept connections reused; and the refusals, each its
//! own kind (`is_tls`) saying why: an unknown issuer, another host's certificate, an expired
//! one, a server that speaks no TLS; a CA trusted from its PEM; and a client certificate for a
//! server that asks for one.
#![cfg(all(feature = "client", feature = "tls"))]

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rpc_core::{rpc_method, rpc_subscription, Router, Sink};
use rpc_hyper::{Client, RpcService};
use rustls::pki_types::CertificateDer;

mod pki;
use pki::{pki, Pki};

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a + b
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

/// ring, named, as the client's own configuration names it.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    #[allow(deprecated)]
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS server of ours, its handshakes counted; `alpn` what it offers.
async fn server(pki: &Pki, alpn: &[&[u8]]) -> (SocketAddr, Arc<AtomicUsize>) {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), pki.key.clone_key())
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    serve_tls(config).await
}

/// Our service behind `config`: hyper over tokio-rustls, with upgrades (a WebSocket).
async fn serve_tls(config: rustls::ServerConfig) -> (SocketAddr, Arc<AtomicUsize>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let mut router = Router::new();
    router.register(add::method()).unwrap();
    router.register(countdown::method()).unwrap();
    let service = RpcService::new(router);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&handshakes);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, service, counted) =
                (acceptor.clone(), service.clone(), Arc::clone(&counted));
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                counted.fetch_add(1, Ordering::Relaxed);
                let io = hyper_util::rt::TokioIo::new(tls);
                let builder = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                );
                let _ = builder.serve_connection_with_upgrades(io, service).await;
            });
        }
    });
    (addr, handshakes)
}

#[tokio::test]
async fn a_private_ca_trusted_by_the_builder_is_reached_over_https_and_connections_are_kept() {
    let pki = pki(&["localhost"], false);
    let (addr, handshakes) = server(&pki, &[b"http/1.1"]).await;
    let client = Client::builder(&format!("https://localhost:{}/", addr.port()))
        .add_root_certificate(pki.ca.to_vec())
        .build()
        .unwrap();
    for n in 0..5 {
        let sum: i64 = client
            .request("add", [n, 1])
            .await
            .expect("an answer over TLS");
        assert_eq!(sum, n + 1);
    }
    assert_eq!(
        handshakes.load(Ordering::Relaxed),
        1,
        "one connection, kept"
    );
}

#[cfg(feature = "http2")]
#[tokio::test]
async fn h2_is_asked_for_by_alpn() {
    let pki = pki(&["localhost"], false);
    let (addr, _) = server(&pki, &[b"h2"]).await;
    let client = Client::builder(&format!("https://localhost:{}/", addr.port()))
        .add_root_certificate(pki.ca.to_vec())
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let sums = futures_util::future::join_all((0..20).map(|n| {
        let client = client.clone();
        async move { client.request::<i64>("add", [n, n]).await }
    }))
    .await;
    for (n, sum) in sums.into_iter().enumerate() {
        assert_eq!(sum.expect("an answer over h2"), 2 * n as i64);
    }
}

/// The error of one call to `url`, trusting `ca` if given.
async fn refusal(url: String, ca: Option<&CertificateDer<'static>>) -> rpc_hyper::client::Error {
    let mut builder = Client::builder(&url).timeout(Duration::from_secs(30));
    if let Some(ca) = ca {
        builder = builder.add_root_certificate(ca.to_vec());
    }
    let client = builder.build().unwrap();
    client
        .request::<i64>("add", [1, 2])
        .await
        .expect_err("refused")
}

#[tokio::test]
async fn each_refusal_is_a_tls_error_that_says_why() {
    let good = pki(&["localhost"], false);
    let (addr, _) = server(&good, &[b"http/1.1"]).await;
    let unknown = refusal(format!("https://localhost:{}/", addr.port()), None).await;
    assert!(unknown.is_tls(), "{unknown}");
    assert!(unknown.to_string().contains("unknown issuer"), "{unknown}");

    let other_host = refusal(
        format!("https://127.0.0.1:{}/", addr.port()),
        Some(&good.ca),
    )
    .await;
    assert!(other_host.is_tls(), "{other_host}");
    assert!(
        other_host.to_string().contains("name mismatch"),
        "{other_host}"
    );

    let old = pki(&["localhost"], true);
    let (old_addr, _) = server(&old, &[b"http/1.1"]).await;
    let expired = refusal(
        format!("https://localhost:{}/", old_addr.port()),
        Some(&old.ca),
    )
    .await;
    assert!(expired.is_tls(), "{expired}");
    assert!(expired.to_string().contains("expired"), "{expired}");
}

#[tokio::test]
async fn a_server_that_speaks_no_tls_is_a_tls_error_not_a_hang() {
    // Plain HTTP on the port: its answer to the ClientHello is no TLS record.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(
        rpc_hyper::serve(listener, {
            let mut router = Router::new();
            router.register(add::method()).unwrap();
            router
        })
        .into_future(),
    );
    let error = refusal(format!("https://localhost:{port}/"), None).await;
    assert!(error.is_tls(), "{error}");
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn over_wss_calls_and_subscriptions_go_through_tls() {
    use futures_util::StreamExt;
    let pki = pki(&["localhost"], false);
    let (addr, handshakes) = server(&pki, &[b"http/1.1"]).await;
    let client = Client::builder(&format!("wss://localhost:{}/", addr.port()))
        .add_root_certificate(pki.ca.to_vec())
        .build()
        .unwrap();
    let sum: i64 = client
        .request("add", [2, 3])
        .await
        .expect("an answer over wss");
    assert_eq!(sum, 5);
    let items: Vec<u64> = client
        .subscribe(countdown::subscribe(3))
        .await
        .expect("subscribed over wss")
        .take(4)
        .map(|item| item.expect("an item"))
        .collect()
        .await;
    assert_eq!(items, [3, 2, 1, 0]);
    assert_eq!(handshakes.load(Ordering::Relaxed), 1, "one connection");
    // An untrusted server is refused, and the message says why.
    let untrusted = Client::builder(&format!("wss://localhost:{}/", addr.port()))
        .max_reconnects(0)
        .build()
        .unwrap();
    let refused = untrusted
        .request::<i64>("add", [1, 1])
        .await
        .expect_err("refused");
    assert!(refused.to_string().contains("unknown issuer"), "{refused}");
}

/// A server that asks every client for a certificate its `ca` signed.
async fn mutual_server(pki: &Pki, clients_ca: &CertificateDer<'static>) -> SocketAddr {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(clients_ca.clone()).unwrap();
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(pki.chain.clone(), pki.key.clone_key())
        .unwrap();
    serve_tls(config).await.0
}

#[tokio::test]
async fn a_client_certificate_is_presented_to_a_server_that_asks_for_one() {
    let server_pki = pki(&["localhost"], false);
    let client_pki = pki(&["client.example"], false);
    let addr = mutual_server(&server_pki, &client_pki.ca).await;
    let url = format!("https://localhost:{}/", addr.port());
    let rustls::pki_types::PrivateKeyDer::Pkcs8(key) = &client_pki.key else {
        unreachable!("rcgen's keys are PKCS#8")
    };
    let with = Client::builder(&url)
        .add_root_certificate(server_pki.ca.to_vec())
        .client_certificate(
            client_pki.chain.iter().map(|c| c.to_vec()).collect(),
            key.secret_pkcs8_der().to_vec(),
        )
        .build()
        .unwrap();
    let sum: i64 = with.request("add", [20, 22]).await.expect("mutual TLS");
    assert_eq!(sum, 42);
    // Without one, the server refuses it: an error, not a hang.
    let without = refusal(url, Some(&server_pki.ca)).await;
    assert!(
        without.is_tls() || without.is_transport(),
        "refused by the server: {without}"
    );
}

#[tokio::test]
async fn a_cas_pem_file_is_trusted_and_pem_without_certificates_is_refused_at_build() {
    let pki = pki(&["localhost"], false);
    let (addr, _) = server(&pki, &[b"http/1.1"]).await;
    let url = format!("https://localhost:{}/", addr.port());
    let client = Client::builder(&url)
        .add_root_certificates_pem(pki.ca_pem.as_bytes())
        .build()
        .unwrap();
    let sum: i64 = client
        .request("add", [1, 2])
        .await
        .expect("trusted by its PEM");
    assert_eq!(sum, 3);
    let refused = Client::builder(&url)
        .add_root_certificates_pem(b"not a certificate")
        .build()
        .expect_err("no certificate in it");
    assert!(refused.is_tls(), "{refused}");
}
