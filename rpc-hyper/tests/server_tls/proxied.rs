//! The PROXY protocol in front of TLS: a balancer that passes TLS through sends its header
//! in cleartext first, and the handshake follows on the same connection.

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::pki::Ca;
use super::{router, server_tls};

#[tokio::test]
async fn the_proxy_header_is_read_before_the_tls_handshake() {
    let ca = Ca::new("test CA");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = rpc_hyper::serve(listener, router())
        .tls(server_tls(&ca))
        .proxy_protocol();
    tokio::spawn(std::future::IntoFuture::into_future(server));
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 443\r\n")
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = ca.connector(None).connect(name, tcp).await.unwrap();
    let body = r#"{"jsonrpc":"2.0","method":"peer","id":1}"#;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: l\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    tls.flush().await.unwrap();
    let mut held = Vec::new();
    let answer = super::parking::answer(&mut tls, &mut held).await;
    assert_eq!(
        answer,
        r#"{"jsonrpc":"2.0","result":"203.0.113.7:5555","id":1}"#
    );
}
