//! Heap allocations per WebSocket call and per delivered notification, and the heap an idle
//! connection holds, counted over a real loopback socket and pinned. The client writes
//! prepared frames and reads into one buffer, so what is counted is the server's.
#![cfg(feature = "ws")]

use std::time::Duration;

use rpc_core::{rpc_method, rpc_subscription, Broadcast, Router, Sink, State};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// Counts down from `from`, as fast as the client reads.
#[rpc_subscription]
async fn countdown(from: u64, sink: Sink<u64>) {
    for n in (0..=from).rev() {
        if sink.send(n).await.is_err() {
            return;
        }
    }
}

/// The blocks `publish` broadcasts.
#[derive(Default)]
struct Chain {
    blocks: Broadcast<u64>,
}

/// Every block.
#[rpc_subscription]
async fn blocks(chain: State<'_, Chain>, sink: Sink<u64>) {
    chain.blocks.attach(sink).await;
}

/// Broadcasts a block to every subscriber.
#[rpc_method]
fn publish(chain: State<'_, Chain>, block: u64) -> usize {
    chain.blocks.send(&block).unwrap_or(0)
}

/// A masked client text frame (the zero mask leaves the payload as it is).
fn frame(payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut frame = vec![0x81, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(payload);
    frame
}

/// Reads whole server frames until `count` text frames have come; returns the last payload's
/// length. `buf` is reused; nothing is allocated.
async fn read_frames(stream: &mut TcpStream, buf: &mut [u8], count: usize) -> usize {
    let mut last = 0;
    for _ in 0..count {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(head[0], 0x81, "a text frame");
        let len = match head[1] & 0x7f {
            126 => {
                let mut ext = [0u8; 2];
                stream.read_exact(&mut ext).await.unwrap();
                usize::from(u16::from_be_bytes(ext))
            }
            len => usize::from(len),
        };
        stream.read_exact(&mut buf[..len]).await.unwrap();
        last = len;
    }
    last
}

async fn open(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = "GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.unwrap();
        answer.push(byte[0]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 101 "));
    stream
}

#[test]
fn allocations_per_websocket_call_and_per_notification_are_pinned() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut router = Router::with_state(Chain::default());
        router.register(add::method()).unwrap();
        router.register(countdown::method()).unwrap();
        router.register(blocks::method()).unwrap();
        router.register(publish::method()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            rpc_hyper::serve(listener, router)
                .with_graceful_shutdown(async {
                    stopped.await.ok();
                })
                .await
        });
        // Idle connections: the heap each holds once open.
        const IDLE: usize = 200;
        let mut idle = Vec::with_capacity(IDLE);
        idle.push(open(addr).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = dhat::HeapStats::get().curr_bytes;
        for _ in 1..IDLE {
            idle.push(open(addr).await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let idle_bytes = (dhat::HeapStats::get().curr_bytes - before) as f64 / (IDLE - 1) as f64;
        drop(idle);

        let mut stream = open(addr).await;
        let mut buf = vec![0u8; 1 << 16];
        let call = frame(br#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#);

        // Calls, one at a time: warm up, then count.
        for _ in 0..100 {
            stream.write_all(&call).await.unwrap();
            read_frames(&mut stream, &mut buf, 1).await;
        }
        const CALLS: usize = 1_000;
        let before = dhat::HeapStats::get().total_blocks;
        for _ in 0..CALLS {
            stream.write_all(&call).await.unwrap();
            read_frames(&mut stream, &mut buf, 1).await;
        }
        let calls = (dhat::HeapStats::get().total_blocks - before) as f64 / CALLS as f64;

        // Notifications: one countdown of many numbers, read as they come, counted from the
        // subscribe call to the last number (the kernel's buffers hold thousands of them, so
        // the producer is not throttled until late: count them all).
        const ITEMS: usize = 20_000;
        let subscribe = frame(
            format!(r#"{{"jsonrpc":"2.0","method":"subscribe_countdown","params":[{}],"id":2}}"#, ITEMS - 1)
                .as_bytes(),
        );
        let before = dhat::HeapStats::get().total_blocks;
        stream.write_all(&subscribe).await.unwrap();
        read_frames(&mut stream, &mut buf, 1 + ITEMS).await;
        let notes = (dhat::HeapStats::get().total_blocks - before) as f64 / ITEMS as f64;

        // A broadcast to many subscribers of one connection: per delivered notification.
        const SUBSCRIBERS: usize = 100;
        let subscribe = frame(br#"{"jsonrpc":"2.0","method":"subscribe_blocks","id":3}"#);
        for _ in 0..SUBSCRIBERS {
            stream.write_all(&subscribe).await.unwrap();
            read_frames(&mut stream, &mut buf, 1).await;
        }
        let publish = frame(br#"{"jsonrpc":"2.0","method":"publish","params":[7],"id":4}"#);
        const BLOCKS: usize = 200;
        let before = dhat::HeapStats::get().total_blocks;
        for _ in 0..BLOCKS {
            stream.write_all(&publish).await.unwrap();
            read_frames(&mut stream, &mut buf, 1 + SUBSCRIBERS).await;
        }
        let delivered = (dhat::HeapStats::get().total_blocks - before) as f64
            / (BLOCKS * SUBSCRIBERS) as f64;

        println!("heap bytes per idle connection {idle_bytes:.0}");
        // An idle WebSocket: tungstenite's 2 KiB read buffer, its task (the connection's
        // future, sized for the WebSocket alone), the copied upgrade headers, the outbox; and
        // the test client's socket registration. Held to 8 KiB.
        assert!(idle_bytes <= 8192.0, "{idle_bytes:.0} heap bytes per idle connection");
        println!("allocations per call {calls:.2}, per notification {notes:.2}, per broadcast delivery {delivered:.3}");
        // A broadcast: the item serialized once and shared, plus the `publish` call's own;
        // nothing per subscriber.
        let per_block = delivered * SUBSCRIBERS as f64;
        assert!(
            (per_block - ALLOCS_PER_BROADCAST).abs() < 0.1,
            "{per_block:.2} allocations per broadcast to {SUBSCRIBERS}"
        );
        // A call: the answer buffer. It is copied into a frame buffer that is reused; the
        // message read is a slice of tungstenite's read buffer, the context and the outbox
        // are the connection's, and no future is boxed (every method is sync).
        assert!((calls - ALLOCS_PER_CALL).abs() < 0.05, "{calls:.2} allocations per call");
        // A notification: its item, serialized once; it is framed in a buffer that is reused.
        assert!(
            (notes - ALLOCS_PER_NOTIFICATION).abs() < 0.05,
            "{notes:.2} allocations per notification"
        );
        drop(stream);
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    });
}

const ALLOCS_PER_CALL: f64 = 1.0;
const ALLOCS_PER_NOTIFICATION: f64 = 1.0;
/// The item's buffer and its shared handle; the `publish` call's answer buffer.
const ALLOCS_PER_BROADCAST: f64 = 3.0;
