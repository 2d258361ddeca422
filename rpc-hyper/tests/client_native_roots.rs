//! `tls-native-roots`: the client trusts what the platform's store trusts, beside the
//! compiled-in roots. The platform's store is pointed at a CA of the test's own with
//! `SSL_CERT_FILE` (which rustls-native-certs honours, as OpenSSL does), so no root is added
//! by the builder. One test alone in this binary: it sets the variable before any client reads
//! the store, once per process.
#![cfg(all(feature = "client", feature = "tls-native-roots"))]

use std::time::Duration;

use rpc_core::{rpc_method, Router};
use rpc_hyper::tls::ServerTls;

mod pki;

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::test]
async fn a_ca_in_the_platforms_store_is_trusted_without_the_builder() {
    let ca = pki::Ca::new("platform CA");
    let dir = std::env::temp_dir().join(format!("rpc-native-roots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("bundle.pem");
    std::fs::write(&bundle, &ca.pem).unwrap();
    std::env::set_var("SSL_CERT_FILE", &bundle);

    let leaf = ca.issue(&["localhost"], "server", false);
    let tls = ServerTls::from_pem(leaf.cert_pem.as_bytes(), leaf.key_pem.as_bytes()).unwrap();
    let mut router = Router::new();
    router.register(add::method()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(std::future::IntoFuture::into_future(
        rpc_hyper::serve(listener, router).tls(tls),
    ));

    let client = rpc_hyper::Client::builder(&format!("https://localhost:{port}/"))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let sum: i64 = client
        .request("add", [2, 3])
        .await
        .expect("trusted through the platform's store");
    assert_eq!(sum, 5);
    std::fs::remove_dir_all(&dir).ok();
}
