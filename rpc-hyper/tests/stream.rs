//! The stream transports over real byte streams (in-memory duplexes, Unix sockets, TCP): each
//! framing, the WebSocket's semantics (batches, notifications, concurrency within a bound,
//! backpressure, subscriptions, drain), the listeners' rules, and the peers in the context.
#![cfg(feature = "stream")]

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rpc_core::{
    rpc_method, rpc_subscription, ConnectionId, ErrorObject, Ext, PeerAddr, PeerCred, Router, Sink,
    State,
};
use rpc_hyper::stream::{self, Framing};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Semaphore;

/// The longest any single step of a test may take.
const STEP: Duration = Duration::from_secs(10);

struct App {
    /// Calls of `gate` that have started.
    started: AtomicUsize,
    /// What `gate` waits for.
    gate: Semaphore,
}

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> Result<i64, ErrorObject> {
    a.checked_add(b)
        .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
}

/// Sleeps `ms`, then answers it.
#[rpc_method]
async fn wait(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

/// Waits for a permit of the app's gate.
#[rpc_method]
async fn gate(app: State<'_, App>) -> bool {
    app.started.fetch_add(1, Ordering::SeqCst);
    app.gate.acquire().await.expect("open").forget();
    true
}

/// Panics.
#[rpc_method]
fn boom() -> u8 {
    panic!("a detail that must not leak")
}

/// What the context holds of the connection.
#[rpc_method]
fn whence(
    peer: Option<Ext<'_, PeerAddr>>,
    cred: Option<Ext<'_, PeerCred>>,
    connection: Option<Ext<'_, ConnectionId>>,
) -> Value {
    json!({
        "peer": peer.map(|peer| peer.to_string()),
        "uid": cred.map(|cred| cred.uid),
        "pid": cred.and_then(|cred| cred.pid),
        "connection": connection.map(|id| id.get()),
    })
}

/// A result written by hand, pretty-printed: raw line ends between its tokens.
#[rpc_method]
fn pretty() -> Box<serde_json::value::RawValue> {
    serde_json::value::RawValue::from_string(
        "{\n  \"a\": [1,\r\n 2],\n  \"b\": \"x\\ny\"\n}".into(),
    )
    .expect("JSON")
}

/// Counts down from `from` to 0, one number every `interval_ms`.
#[rpc_subscription]
async fn countdown(from: u64, interval_ms: u64, sink: Sink<u64>) {
    for n in (0..=from).rev() {
        if sink.send(n).await.is_err() {
            return;
        }
        if interval_ms > 0 {
            tokio::time::sleep(Duration::from_millis(interval_ms)).await;
        }
    }
}

impl Default for App {
    fn default() -> Self {
        Self {
            started: AtomicUsize::new(0),
            gate: Semaphore::new(0),
        }
    }
}

fn router() -> Arc<Router<App>> {
    let mut router = Router::with_state(App::default());
    router
        .register(add::method())
        .and_then(|r| r.register(wait::method()))
        .and_then(|r| r.register(gate::method()))
        .and_then(|r| r.register(boom::method()))
        .and_then(|r| r.register(whence::method()))
        .and_then(|r| r.register(countdown::method()))
        .and_then(|r| r.register(pretty::method()))
        .expect("distinct names");
    Arc::new(router)
}

/// A newline-delimited client of any stream.
struct Client<R, W> {
    read: BufReader<R>,
    write: W,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Client<R, W> {
    fn new(read: R, write: W) -> Self {
        Self {
            read: BufReader::new(read),
            write,
        }
    }

    async fn send(&mut self, text: &[u8]) {
        tokio::time::timeout(STEP, self.write.write_all(text))
            .await
            .expect("written in time")
            .expect("written");
    }

    /// The next line, as JSON; `None` at the end of the stream.
    async fn next(&mut self) -> Option<Value> {
        let mut line = String::new();
        let n = tokio::time::timeout(STEP, self.read.read_line(&mut line))
            .await
            .expect("a line in time")
            .ok()?;
        if n == 0 {
            return None;
        }
        assert!(line.ends_with('\n'), "a whole line: {line:?}");
        Some(serde_json::from_str(&line).expect("JSON"))
    }

    async fn call(&mut self, text: &str) -> Value {
        self.send(format!("{text}\n").as_bytes()).await;
        self.next().await.expect("an answer")
    }
}

type ReadHalf = tokio::io::ReadHalf<tokio::io::DuplexStream>;
type WriteHalf = tokio::io::WriteHalf<tokio::io::DuplexStream>;
type DuplexServer = stream::StreamServer<stream::Io<ReadHalf, WriteHalf>, App>;

/// A server on an in-memory duplex, set up by `configure`, and its newline client.
fn duplex_server(
    configure: impl FnOnce(DuplexServer) -> DuplexServer,
) -> (
    Client<ReadHalf, WriteHalf>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(theirs);
    let server = configure(stream::serve(read, write, router()));
    let server = tokio::spawn(server.into_future());
    let (read, write) = tokio::io::split(ours);
    (Client::new(read, write), server)
}

#[tokio::test]
async fn newline_calls_batches_and_notifications_get_the_answers_of_the_http_contract() {
    let (mut client, server) = duplex_server(|s| s);
    assert_eq!(
        client
            .call(r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#)
            .await,
        json!({"jsonrpc":"2.0","result":5,"id":1})
    );
    // A notification gets nothing: the next answer is the batch's.
    client
        .send(b"{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[2,3]}\n\n\r\n")
        .await;
    assert_eq!(
        client
            .call(r#"[{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":1},"id":"a"},{"jsonrpc":"2.0","method":"nope","id":"b"}]"#)
            .await,
        json!([
            {"jsonrpc":"2.0","result":2,"id":"a"},
            {"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"b"}
        ])
    );
    // Not JSON: -32700, and the connection goes on; a panic is -32603.
    assert_eq!(client.call("{oops").await["error"]["code"], -32700);
    assert_eq!(client.call("\u{7f}\u{0}").await["error"]["code"], -32700);
    assert_eq!(
        client
            .call(r#"{"jsonrpc":"2.0","method":"boom","id":9}"#)
            .await,
        json!({"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":9})
    );
    // `\r\n` ends a line too.
    client
        .send(b"{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],\"id\":3}\r\n")
        .await;
    assert_eq!(client.next().await.unwrap()["result"], 3);
    drop(client);
    tokio::time::timeout(STEP, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_line_over_the_limit_is_refused_with_id_null_and_the_next_line_is_served() {
    let (mut client, _server) = duplex_server(|s| s.max_message_size(1024));
    let mut long = vec![b' '; 5000];
    long.extend_from_slice(b"x\n");
    client.send(&long).await;
    let refused = client.next().await.unwrap();
    assert_eq!(refused["error"]["code"], -32600);
    assert_eq!(refused["id"], Value::Null);
    assert_eq!(
        refused["error"]["data"],
        "a message over the 1024-byte limit"
    );
    assert_eq!(
        client
            .call(r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#)
            .await["result"],
        5
    );
}

#[tokio::test]
async fn an_answer_with_raw_line_ends_is_still_one_line() {
    let (mut client, _server) = duplex_server(|s| s);
    let answer = client
        .call(r#"{"jsonrpc":"2.0","method":"pretty","id":1}"#)
        .await;
    assert_eq!(answer["result"], json!({"a": [1, 2], "b": "x\ny"}));
    // And the line after it is the next answer, whole.
    assert_eq!(
        client
            .call(r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":2}"#)
            .await["result"],
        5
    );
}

#[tokio::test]
async fn calls_of_one_connection_run_concurrently_and_answer_as_they_finish() {
    let (mut client, _server) = duplex_server(|s| s);
    client
        .send(b"{\"jsonrpc\":\"2.0\",\"method\":\"wait\",\"params\":[300],\"id\":1}\n{\"jsonrpc\":\"2.0\",\"method\":\"wait\",\"params\":[10],\"id\":2}\n")
        .await;
    assert_eq!(client.next().await.unwrap()["id"], 2);
    assert_eq!(client.next().await.unwrap()["id"], 1);
}

#[tokio::test]
async fn past_the_call_bound_the_stream_is_not_read() {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(theirs);
    let router = router();
    let server = stream::serve(read, write, Arc::clone(&router)).max_calls_in_flight(2);
    let _server = tokio::spawn(server.into_future());
    let (read, write) = tokio::io::split(ours);
    let mut client = Client::new(read, write);
    let call = b"{\"jsonrpc\":\"2.0\",\"method\":\"gate\",\"id\":1}\n";
    for _ in 0..50 {
        client.send(call).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let app = router.state();
    assert_eq!(
        app.started.load(Ordering::SeqCst),
        2,
        "two run, the rest are not read"
    );
    app.gate.add_permits(50);
    for _ in 0..50 {
        assert_eq!(client.next().await.unwrap()["result"], true);
    }
    assert_eq!(app.started.load(Ordering::SeqCst), 50);
}

#[tokio::test]
async fn the_end_of_the_input_answers_the_calls_in_flight_then_returns() {
    let (mut client, server) = duplex_server(|s| s);
    client
        .send(b"{\"jsonrpc\":\"2.0\",\"method\":\"wait\",\"params\":[200],\"id\":7}\n")
        .await;
    // stdin closing: the writing half ends.
    client.write.shutdown().await.unwrap();
    assert_eq!(
        client.next().await,
        Some(json!({"jsonrpc":"2.0","result":200,"id":7}))
    );
    assert_eq!(client.next().await, None);
    tokio::time::timeout(STEP, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn the_input_cut_off_mid_message_ends_the_connection_in_order() {
    let (mut client, server) = duplex_server(|s| s);
    client.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"wait\",\"params\":[50],\"id\":1}\n{\"jsonrpc\":\"2.0\",\"meth").await;
    client.write.shutdown().await.unwrap();
    // The cut-off line is a line all the same, and not JSON: answered at once; the call in
    // flight is answered when it is done.
    assert_eq!(client.next().await.unwrap()["error"]["code"], -32700);
    assert_eq!(client.next().await.unwrap()["result"], 50);
    assert_eq!(client.next().await, None);
    tokio::time::timeout(STEP, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn graceful_shutdown_answers_what_is_in_flight_and_ends_subscriptions() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (mut client, server) = duplex_server(|s| {
        s.with_graceful_shutdown(async {
            rx.await.ok();
        })
    });
    let subscribed = client
        .call(r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[1000000,50],"id":1}"#)
        .await;
    assert!(subscribed["result"].as_str().unwrap().starts_with("0x"));
    client
        .send(b"{\"jsonrpc\":\"2.0\",\"method\":\"wait\",\"params\":[300],\"id\":2}\n")
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    tx.send(()).unwrap();
    // Notifications may come until the drain; the call's answer comes, then the end.
    loop {
        let message = client.next().await.expect("the answer before the end");
        if message["id"] == 2 {
            assert_eq!(message["result"], 300);
            break;
        }
        assert_eq!(message["method"], "countdown");
    }
    assert_eq!(client.next().await, None);
    tokio::time::timeout(STEP, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_call_read_during_the_drain_is_told_the_server_is_shutting_down() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // With a dialect, the connection reads on while calls run: a cancel may come.
    let (mut client, server) = duplex_server(|s| {
        s.dialect(rpc_core::Dialect::Lsp)
            .with_graceful_shutdown(async {
                rx.await.ok();
            })
    });
    client
        .send(b"{\"jsonrpc\":\"2.0\",\"method\":\"wait\",\"params\":[300],\"id\":1}\n")
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    tx.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let late = client
        .call(r#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":2}"#)
        .await;
    assert_eq!(
        late,
        json!({"jsonrpc":"2.0","error":{"code":-32012,"message":"The server is shutting down"},"id":2})
    );
    assert_eq!(
        client.next().await,
        Some(json!({"jsonrpc":"2.0","result":300,"id":1}))
    );
    assert_eq!(client.next().await, None);
    tokio::time::timeout(STEP, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn content_length_frames_each_message_and_each_answer() {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(theirs);
    let server = stream::serve(read, write, router()).framing(Framing::ContentLength);
    let server = tokio::spawn(server.into_future());
    let (mut read, mut write) = tokio::io::split(ours);
    let body = r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#;
    let framed = format!(
        "Content-Length: {}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{body}",
        body.len()
    );
    // In 1-byte writes.
    for byte in framed.as_bytes() {
        write.write_all(std::slice::from_ref(byte)).await.unwrap();
    }
    let expected = r#"{"jsonrpc":"2.0","result":5,"id":1}"#;
    let want = format!("Content-Length: {}\r\n\r\n{expected}", expected.len());
    let mut got = vec![0; want.len()];
    tokio::time::timeout(STEP, read.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), want);

    // A malformed header ends the connection: there is no finding the next message.
    write
        .write_all(b"Content-Length: -1\r\n\r\n{}")
        .await
        .unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(STEP, read.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert!(rest.is_empty(), "nothing more is said: {rest:?}");
    tokio::time::timeout(STEP, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn concatenated_values_split_across_writes_are_each_answered() {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(theirs);
    let server = stream::serve(read, write, router()).framing(Framing::Concatenated);
    let _server = tokio::spawn(server.into_future());
    let (read, mut write) = tokio::io::split(ours);
    let input = br#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}{"jsonrpc":"2.0","method":"add","params":[3,4],"id":2}[{"jsonrpc":"2.0","method":"add","params":[5,6],"id":3}]"#;
    for piece in input.chunks(7) {
        write.write_all(piece).await.unwrap();
    }
    let mut client = Client::new(read, write);
    assert_eq!(client.next().await.unwrap()["result"], 3);
    assert_eq!(client.next().await.unwrap()["result"], 7);
    assert_eq!(client.next().await.unwrap()[0]["result"], 11);
    // Garbage between values is answered once, and the next value served.
    assert_eq!(client.call("garbage!").await["error"]["code"], -32700);
    assert_eq!(
        client
            .call(r#"{"jsonrpc":"2.0","method":"add","params":[1,1],"id":4}"#)
            .await["result"],
        2
    );
}

#[cfg(all(feature = "ipc", unix))]
mod ipc {
    use super::*;
    use rpc_hyper::stream::{serve_ipc, IpcListener};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use tokio::net::UnixStream;

    /// Removes a test's socket directory when dropped.
    struct TempDir(std::path::PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A fresh socket path, and the guard of its directory.
    fn socket_path(name: &str) -> (std::path::PathBuf, TempDir) {
        let dir = std::env::temp_dir().join(format!("rpc-stream-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        (dir.join("node.ipc"), TempDir(dir))
    }

    async fn connect(
        path: &std::path::Path,
    ) -> Client<tokio::net::unix::OwnedReadHalf, tokio::net::unix::OwnedWriteHalf> {
        let stream = tokio::time::timeout(STEP, UnixStream::connect(path))
            .await
            .unwrap()
            .unwrap();
        let (read, write) = stream.into_split();
        Client::new(read, write)
    }

    #[tokio::test]
    async fn a_unix_socket_serves_calls_and_subscriptions_with_the_peer_in_the_context() {
        let (path, _dir) = socket_path("serve");
        let listener = IpcListener::bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(
            serve_ipc(listener, router())
                .with_graceful_shutdown(async {
                    rx.await.ok();
                })
                .into_future(),
        );
        let mut client = connect(&path).await;
        let whence = client
            .call(r#"{"jsonrpc":"2.0","method":"whence","id":1}"#)
            .await;
        let uid = std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(u32::MAX);
        assert_eq!(whence["result"]["uid"], uid);
        assert_eq!(whence["result"]["pid"], std::process::id());
        assert!(whence["result"]["connection"].is_u64());
        assert_eq!(whence["result"]["peer"], Value::Null);

        // A subscription works as over a WebSocket, in the Ethereum format.
        let id = client
            .call(r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":{"from":2,"interval_ms":0},"id":2}"#)
            .await["result"]
            .as_str()
            .unwrap()
            .to_owned();
        for n in [2, 1, 0] {
            assert_eq!(
                client.next().await.unwrap(),
                json!({"jsonrpc":"2.0","method":"countdown","params":{"subscription":id,"result":n}})
            );
        }

        // A second server on the same path is refused while this one lives.
        let refused = IpcListener::bind(&path).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::AddrInUse);

        tx.send(()).unwrap();
        tokio::time::timeout(STEP, server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(!path.exists(), "the socket file is removed on shutdown");
    }

    #[test]
    fn a_stale_socket_file_is_replaced_and_another_file_is_refused() {
        let (path, _dir) = socket_path("stale");
        // A socket nobody listens on any more.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = IpcListener::bind_with_mode(&path, 0o660).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o660);
            drop(listener);
        });
        assert!(!path.exists());
        std::fs::write(&path, b"not a socket").unwrap();
        let refused = runtime.block_on(async { IpcListener::bind(&path).unwrap_err() });
        assert_eq!(refused.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"not a socket", "left alone");
        std::fs::remove_file(&path).unwrap();
    }

    /// The process's open file descriptors.
    fn open_fds() -> usize {
        std::fs::read_dir("/proc/self/fd")
            .map(|dir| dir.count())
            .unwrap_or(0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_thousand_connections_that_come_and_go_leak_nothing() {
        let (path, _dir) = socket_path("cycles");
        let listener = IpcListener::bind(&path).unwrap();
        let _server = tokio::spawn(serve_ipc(listener, router()).into_future());
        let mut client = connect(&path).await;
        assert_eq!(
            client
                .call(r#"{"jsonrpc":"2.0","method":"add","params":[1,1],"id":1}"#)
                .await["result"],
            2
        );
        drop(client);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let before = open_fds();
        for i in 0..1000 {
            let mut stream = UnixStream::connect(&path).await.unwrap();
            match i % 3 {
                // Gone at once; gone mid-message; gone after a call.
                0 => {}
                1 => stream
                    .write_all(b"{\"jsonrpc\":\"2.0\",\"meth")
                    .await
                    .unwrap(),
                _ => {
                    stream
                        .write_all(
                            b"{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,1],\"id\":1}",
                        )
                        .await
                        .unwrap();
                    let mut buf = [0; 64];
                    let _ = tokio::time::timeout(STEP, stream.read(&mut buf))
                        .await
                        .unwrap();
                }
            }
        }
        let mut client = connect(&path).await;
        assert_eq!(
            client
                .call(r#"{"jsonrpc":"2.0","method":"add","params":[2,2],"id":1}"#)
                .await["result"],
            4
        );
        drop(client);
        // Every connection's task ends and closes its socket.
        let mut after = open_fds();
        for _ in 0..100 {
            if after <= before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            after = open_fds();
        }
        assert!(
            after <= before,
            "{before} descriptors before, {after} after"
        );
    }
}

#[cfg(feature = "tcp")]
mod tcp {
    use super::*;
    use tokio::net::{TcpListener, TcpStream};

    async fn start(
        configure: impl FnOnce(
            stream::StreamServer<stream::Listener<TcpListener>, App>,
        ) -> stream::StreamServer<stream::Listener<TcpListener>, App>,
    ) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = configure(stream::serve_tcp(listener, router()));
        tokio::spawn(server.into_future());
        addr
    }

    async fn connect(
        addr: std::net::SocketAddr,
    ) -> Client<tokio::net::tcp::OwnedReadHalf, tokio::net::tcp::OwnedWriteHalf> {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (read, write) = stream.into_split();
        Client::new(read, write)
    }

    #[tokio::test]
    async fn tcp_has_the_peer_address_in_the_context() {
        let addr = start(|s| s).await;
        let mut client = connect(addr).await;
        let local = client.write.local_addr().unwrap();
        let whence = client
            .call(r#"{"jsonrpc":"2.0","method":"whence","id":1}"#)
            .await;
        assert_eq!(whence["result"]["peer"], local.to_string());
        assert!(whence["result"]["connection"].is_u64());
    }

    #[tokio::test]
    async fn a_peer_that_writes_lines_is_read_by_lines_so_a_broken_one_is_answered() {
        // The listener's default framing tells a line-writing peer by its first value.
        let addr = start(|s| s).await;
        let mut client = connect(addr).await;
        assert_eq!(
            client
                .call(r#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}"#)
                .await["result"],
            3
        );
        // A line that is no whole value: answered, and the next line served.
        assert_eq!(
            client
                .call(r#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":2"#)
                .await["error"]["code"],
            -32700
        );
        assert_eq!(
            client
                .call(r#"{"jsonrpc":"2.0","method":"add","params":[2,2],"id":3}"#)
                .await["result"],
            4
        );
        // A peer that writes values back to back stays concatenated, on the same listener.
        let mut values = connect(addr).await;
        values
            .send(br#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}{"jsonrpc":"2.0","method":"add","params":[3,4],"id":2}"#)
            .await;
        assert_eq!(values.next().await.unwrap()["result"], 3);
        assert_eq!(values.next().await.unwrap()["result"], 7);
    }

    #[tokio::test]
    async fn an_idle_connection_is_closed_and_a_busy_one_is_not() {
        let addr = start(|s| s.idle_timeout(Duration::from_millis(200))).await;
        let mut idle = connect(addr).await;
        let mut busy = connect(addr).await;
        busy.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"wait\",\"params\":[600],\"id\":1}\n")
            .await;
        let started = std::time::Instant::now();
        assert_eq!(idle.next().await, None, "closed for idleness");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(200),
            "closed early: {waited:?}"
        );
        // The call in flight keeps its connection.
        assert_eq!(busy.next().await.unwrap()["result"], 600);
    }

    #[tokio::test]
    async fn a_peer_that_never_reads_is_disconnected_and_the_others_go_on() {
        let addr = start(|s| s.send_timeout(Duration::from_millis(300))).await;
        // Subscribes to a countdown as fast as it can be written, and never reads.
        let mut stalled = TcpStream::connect(addr).await.unwrap();
        stalled
            .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"subscribe_countdown\",\"params\":[100000000,0],\"id\":1}\n")
            .await
            .unwrap();
        let mut other = connect(addr).await;
        for i in 0..20 {
            let answer = other
                .call(&format!(
                    r#"{{"jsonrpc":"2.0","method":"add","params":[{i},1],"id":{i}}}"#
                ))
                .await;
            assert_eq!(answer["result"], i + 1);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // By now the stalled one was cut off: reading drains what was sent, then ends.
        let mut sink = vec![0; 1 << 16];
        let ended = tokio::time::timeout(STEP, async {
            loop {
                match stalled.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(ended.is_ok(), "the stalled connection was closed");
    }
}
