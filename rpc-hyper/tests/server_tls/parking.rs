//! Parking over TLS: with every waiting connection parked, hyper's connection is taken apart
//! between requests and made again over the same TLS session, which must go on as if nothing
//! happened: requests after a park, two in one record, a large answer read late.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::pki::Ca;
use super::{router, server_tls};

/// A request on a kept-alive connection.
fn request(body: &str) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: l\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one answer (head and a `Content-Length` body) from `tls`; fails if the server closes
/// or says it will.
pub(crate) async fn answer<T: tokio::io::AsyncRead + Unpin>(
    tls: &mut T,
    held: &mut Vec<u8>,
) -> String {
    use tokio::io::AsyncReadExt;
    loop {
        if let Some(end) = held.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&held[..end]).to_ascii_lowercase();
            assert!(!head.contains("connection: close"), "closed: {head}");
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .expect("a length")
                .trim()
                .parse()
                .unwrap();
            if held.len() >= end + 4 + len {
                let body = String::from_utf8_lossy(&held[end + 4..end + 4 + len]).into_owned();
                held.drain(..end + 4 + len);
                return body;
            }
        }
        let mut buf = [0; 16 * 1024];
        let read = tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf))
            .await
            .expect("answered in time")
            .expect("read");
        assert_ne!(read, 0, "the server closed a kept-alive connection");
        held.extend_from_slice(&buf[..read]);
    }
}

#[tokio::test]
async fn a_parked_tls_connection_picks_up_where_it_stopped() {
    let ca = Ca::new("test CA");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Every waiting connection parks: hyper's connection is taken apart between requests and
    // made again over the same TLS session.
    let server = rpc_hyper::serve(listener, router())
        .keep_buffers_up_to(0)
        .tls(server_tls(&ca));
    tokio::spawn(std::future::IntoFuture::into_future(server));
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut tls = ca.connector(None).connect(name, tcp).await.unwrap();
    let mut held = Vec::new();
    let add = r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#;
    for _ in 0..3 {
        tls.write_all(request(add).as_bytes()).await.unwrap();
        tls.flush().await.unwrap();
        assert_eq!(
            answer(&mut tls, &mut held).await,
            r#"{"jsonrpc":"2.0","result":5,"id":1}"#
        );
        tokio::time::sleep(Duration::from_millis(50)).await; // parked by now
    }
    // Two requests in one record.
    tls.write_all(format!("{}{}", request(add), request(add)).as_bytes())
        .await
        .unwrap();
    tls.flush().await.unwrap();
    for _ in 0..2 {
        assert_eq!(
            answer(&mut tls, &mut held).await,
            r#"{"jsonrpc":"2.0","result":5,"id":1}"#
        );
    }
    // An answer larger than the socket's buffers, read late: the connection stays kept.
    let big = r#"{"jsonrpc":"2.0","method":"big","params":[1000000],"id":2}"#;
    tls.write_all(request(big).as_bytes()).await.unwrap();
    tls.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let body = answer(&mut tls, &mut held).await;
    assert_eq!(
        body.len(),
        1_000_000 + r#"{"jsonrpc":"2.0","result":"","id":2}"#.len()
    );
    tls.write_all(request(add).as_bytes()).await.unwrap();
    tls.flush().await.unwrap();
    assert_eq!(
        answer(&mut tls, &mut held).await,
        r#"{"jsonrpc":"2.0","result":5,"id":1}"#
    );
}
