//! The PROXY protocol on the listener (`Serve::proxy_protocol`): versions 1 and 2, a header
//! in pieces, the balancer's own `LOCAL` connection, and a connection with no header, which
//! is closed unanswered.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use rpc_core::{rpc_method, Ext, PeerAddr, Router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const STEP: Duration = Duration::from_secs(5);

/// The peer the call's context names.
#[rpc_method]
fn peer(peer: Option<Ext<'_, PeerAddr>>) -> String {
    peer.map_or_else(|| "none".to_owned(), |peer| peer.0.to_string())
}

async fn start() -> SocketAddr {
    let mut router = Router::new();
    router.register(peer::method()).unwrap();
    let listener = rpc_hyper::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    // A short header read timeout: a header that stops halfway is given up on soon.
    let serve = rpc_hyper::serve(listener, router)
        .header_read_timeout(Duration::from_millis(500))
        .proxy_protocol();
    tokio::spawn(serve.into_future());
    addr
}

fn call() -> Vec<u8> {
    let body = r#"{"jsonrpc":"2.0","method":"peer","id":1}"#;
    format!(
        "POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Writes each piece (a pause between them), then reads the answer to its end.
async fn exchange(addr: SocketAddr, pieces: &[&[u8]]) -> String {
    let run = async {
        let mut stream = TcpStream::connect(addr).await?;
        for piece in pieces {
            stream.write_all(piece).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&answer).into_owned())
    };
    tokio::time::timeout(STEP, run).await.unwrap().unwrap()
}

fn result(answer: &str) -> String {
    let body = answer.split_once("\r\n\r\n").expect("an HTTP answer").1;
    let answer: serde_json::Value = serde_json::from_str(body).unwrap();
    answer["result"].as_str().unwrap().to_owned()
}

/// A version 2 header: `command` (0x21 PROXY, 0x20 LOCAL), TCP over IPv4 from `source`.
fn v2(command: u8, source: ([u8; 4], u16)) -> Vec<u8> {
    let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    header.extend([command, 0x11, 0, 12]);
    header.extend(source.0);
    header.extend([10, 0, 0, 1]);
    header.extend(source.1.to_be_bytes());
    header.extend(80u16.to_be_bytes());
    header
}

#[tokio::test]
async fn the_client_a_proxy_header_names_is_the_connections_peer() {
    let addr = start().await;
    let v1 = b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n";
    let answer = exchange(addr, &[&[v1.as_slice(), &call()].concat()]).await;
    assert_eq!(result(&answer), "203.0.113.7:5555");
    let v1_ipv6 = b"PROXY TCP6 2001:db8::7 2001:db8::1 4711 443\r\n";
    let answer = exchange(addr, &[&[v1_ipv6.as_slice(), &call()].concat()]).await;
    assert_eq!(result(&answer), "[2001:db8::7]:4711");
    let header = v2(0x21, ([198, 51, 100, 9], 6000));
    let answer = exchange(addr, &[&[header.as_slice(), &call()].concat()]).await;
    assert_eq!(result(&answer), "198.51.100.9:6000");
    // In pieces: the header is waited for, and only its bytes are taken.
    let answer = exchange(addr, &[&header[..7], &header[7..], &call()]).await;
    assert_eq!(result(&answer), "198.51.100.9:6000");
    // The balancer's own connection: its address stays.
    let local = v2(0x20, ([0, 0, 0, 0], 0));
    let answer = exchange(addr, &[&[local.as_slice(), &call()].concat()]).await;
    assert!(result(&answer).starts_with("127.0.0.1:"), "{answer}");
}

/// Writes `bytes`, then reads until the server closes: whether no byte of an answer came (the
/// close may be a reset, as the server leaves what was sent unread).
async fn unanswered(addr: SocketAddr, bytes: &[u8]) -> bool {
    let run = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(bytes).await.unwrap();
        let mut answer = Vec::new();
        match stream.read_to_end(&mut answer).await {
            Ok(_) => answer.is_empty(),
            Err(err) => err.kind() == std::io::ErrorKind::ConnectionReset && answer.is_empty(),
        }
    };
    tokio::time::timeout(STEP, run).await.unwrap()
}

#[tokio::test]
async fn a_connection_without_a_valid_header_is_closed_unanswered() {
    let addr = start().await;
    assert!(unanswered(addr, &call()).await, "no header");
    let forged = b"PROXY TCP4 203.0.113.7 10.0.0.1 99999 80\r\n";
    assert!(
        unanswered(addr, &[forged.as_slice(), &call()].concat()).await,
        "a bad port"
    );
    // Half a header, then nothing: given up on at the header read timeout.
    let started = std::time::Instant::now();
    assert!(
        unanswered(addr, b"PROXY TCP4 1.2.3.4").await,
        "half a header"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    // The server goes on serving the next one.
    let v1 = b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n";
    let answer = exchange(addr, &[&[v1.as_slice(), &call()].concat()]).await;
    assert_eq!(result(&answer), "203.0.113.7:5555");
}
