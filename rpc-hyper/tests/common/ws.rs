//! WebSocket clients for the tests: a library's, and frames written by hand.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{connect, write_all, TestServer, STEP};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub async fn open(server: &TestServer, headers: &[(&str, &str)]) -> Result<Ws, u16> {
    let mut request = format!("ws://{}/", server.addr)
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    match tokio::time::timeout(STEP, tokio_tungstenite::connect_async(request))
        .await
        .expect("handshake in time")
    {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(err) => panic!("handshake failed: {err}"),
    }
}

/// The next text frame, as JSON.
pub async fn next(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(STEP, ws.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("a message");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("not a text frame: {other:?}"),
        }
    }
}

pub async fn call(ws: &mut Ws, body: &str) -> Value {
    ws.send(Message::text(body)).await.unwrap();
    next(ws).await
}

/// How the server closes the connection: its close code.
pub async fn closed_with(ws: &mut Ws) -> Option<CloseCode> {
    loop {
        match tokio::time::timeout(STEP, ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(frame))) => return frame.map(|frame| frame.code),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

/// A WebSocket opened by hand, for frames no client library sends.
pub async fn raw(server: &TestServer) -> TcpStream {
    let mut stream = connect(server.addr).await;
    let head = "GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    write_all(&mut stream, head.as_bytes()).await;
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        use tokio::io::AsyncReadExt;
        let read = tokio::time::timeout(STEP, stream.read(&mut byte))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read, 1, "closed mid-handshake");
        answer.push(byte[0]);
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 101 "),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    stream
}

/// A client frame: FIN, the opcode, a zero mask (so the payload goes as it is) or none.
pub fn frame(opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut frame = vec![0x80 | opcode];
    if masked {
        frame.push(0x80 | payload.len() as u8);
        frame.extend_from_slice(&[0, 0, 0, 0]);
    } else {
        frame.push(payload.len() as u8);
    }
    frame.extend_from_slice(payload);
    frame
}

/// Reads the server's frames until its close frame; returns the opcodes seen and the close
/// code.
pub async fn frames_until_close(stream: &mut TcpStream) -> (Vec<u8>, Option<u16>) {
    use tokio::io::AsyncReadExt;
    let mut opcodes = Vec::new();
    loop {
        let mut head = [0u8; 2];
        let read = tokio::time::timeout(STEP, stream.read_exact(&mut head))
            .await
            .expect("a frame in time");
        if read.is_err() {
            return (opcodes, None);
        }
        let opcode = head[0] & 0x0f;
        let len = usize::from(head[1] & 0x7f);
        assert!(len < 126, "a short frame");
        let mut payload = vec![0u8; len];
        stream.read_exact(&mut payload).await.unwrap();
        opcodes.push(opcode);
        if opcode == 0x8 {
            let code = (len >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
            return (opcodes, code);
        }
    }
}
