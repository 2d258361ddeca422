//! Parking, on a loopback connection: a crowded connection parks between requests, an
//! uncrowded one keeps its buffers.

use std::time::{Duration, Instant};

use rpc_core::{ErrorObject, Method, Params, Router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::control::Connections;
use crate::RpcService;

const REQUEST: &[u8] = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 54\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[2,3],\"id\":1}";
const ANSWER: &[u8] = br#"{"jsonrpc":"2.0","result":5,"id":1}"#;

/// Serves one loopback connection; returns the client's end and the connection's control.
async fn connection(park_over: usize) -> (TcpStream, Arc<Control>) {
    let mut router = Router::new();
    router
        .register(Method::new_sync("add", |_: &(), params: Params<'_>| {
            let (a, b): (i64, i64) = params.parse()?;
            Ok::<_, ErrorObject>(a + b)
        }))
        .unwrap();
    let service = RpcService::new(router);
    let connections = Arc::new(Connections::new(
        Duration::from_secs(60),
        Duration::from_secs(10),
        park_over,
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (stream, peer) = listener.accept().await.unwrap();
    let control = connections.track();
    let served = Arc::clone(&control);
    tokio::spawn(async move {
        serve_connection(
            Arc::new(Protocols::new()),
            service,
            stream,
            peer,
            served,
            None,
        )
        .await;
    });
    (client, control)
}

async fn call(client: &mut TcpStream) {
    client.write_all(REQUEST).await.unwrap();
    let mut reply = Vec::new();
    let mut buf = [0; 512];
    while !reply.ends_with(ANSWER) {
        let read = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf))
            .await
            .expect("answered in time")
            .unwrap();
        assert_ne!(read, 0, "closed");
        reply.extend_from_slice(&buf[..read]);
    }
}

/// Whether the connection parks within a second.
async fn parks(control: &Control) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        if control.is_parking() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

#[tokio::test]
async fn a_crowded_connection_parks_between_requests() {
    let (mut client, control) = connection(0).await;
    for _ in 0..3 {
        call(&mut client).await;
        assert!(parks(&control).await, "the waiting connection did not park");
    }
}

#[tokio::test]
async fn an_uncrowded_connection_keeps_its_buffers() {
    let (mut client, control) = connection(1).await;
    call(&mut client).await;
    assert!(!parks(&control).await, "parked with one connection open");
}
