//! A test server on 127.0.0.1:0 and clients for it. Every wait is bounded.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rpc_core::{
    rpc_method, rpc_subscription, Broadcast, Context, ErrorObject, Ext, PeerAddr, Router, Sink,
    State,
};
use rpc_hyper::{RpcService, Serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[cfg(feature = "ws")]
pub mod ws;

/// The longest any single step of a test may take.
pub const STEP: Duration = Duration::from_secs(10);

/// State shared by the test methods.
#[derive(Default)]
pub struct Flags {
    /// Set by `slow` when it gets to finish.
    pub slow_finished: AtomicBool,
    /// What `publish` sends to the subscribers of `news`.
    pub news: Broadcast<String>,
}

/// Adds two integers.
#[rpc_method]
pub fn add(a: i64, b: i64) -> Result<i64, ErrorObject> {
    a.checked_add(b)
        .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
}

/// Sleeps, then answers `done`.
#[rpc_method]
pub async fn slow(millis: u64, flags: State<'_, Flags>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(millis)).await;
    flags.slow_finished.store(true, Ordering::SeqCst);
    "done"
}

/// Panics.
#[rpc_method]
fn boom() -> u8 {
    panic!("internal detail that must not leak")
}

/// A string of `len` bytes.
#[rpc_method]
pub fn big(len: usize) -> String {
    "x".repeat(len.min(64 << 20))
}

/// Who calls, as an authentication layer in front would insert it.
#[derive(Clone, Debug)]
pub struct User(pub String);

/// What the call's context holds.
#[rpc_method]
async fn context(cx: &Context<'_>, user: Option<Ext<'_, User>>) -> serde_json::Value {
    // Async, so that the context is read from a method's future as well.
    tokio::task::yield_now().await;
    let header = |name: &str| {
        let value = cx.headers()?.get(name)?;
        value.to_str().ok().map(str::to_owned)
    };
    serde_json::json!({
        "request_id": header("x-request-id"),
        "version": cx.version().map(|v| format!("{v:?}")),
        "peer": cx.get::<PeerAddr>().map(ToString::to_string),
        "connection": cx.connection().map(|id| id.get()),
        "user": user.map(|user| user.0.clone()),
    })
}

/// Says who calls; the caller must be known.
#[rpc_method]
fn whoami(user: Ext<'_, User>) -> String {
    user.0.clone()
}

/// Counts down from `from` to 0, one number every `interval_ms`.
#[rpc_subscription]
pub async fn countdown(from: u64, interval_ms: u64, sink: Sink<u64>) {
    for n in (0..=from).rev() {
        if sink.send(n).await.is_err() {
            return;
        }
        if interval_ms > 0 {
            tokio::time::sleep(Duration::from_millis(interval_ms)).await;
        }
    }
}

/// What Ethereum's `eth_subscribe` takes first.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    NewHeads,
    Syncing,
}

/// Ethereum's subscriptions: new heads (numbered, one every 5 ms, for ever) or the syncing
/// state (once).
#[rpc_subscription(
    name = "eth_subscribe",
    unsubscribe = "eth_unsubscribe",
    notification = "eth_subscription"
)]
async fn eth(kind: Kind, sink: Sink<serde_json::Value>) {
    match kind {
        Kind::NewHeads => {
            for number in 0u64.. {
                let head = serde_json::json!({ "number": format!("{number:#x}") });
                if sink.send(head).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        Kind::Syncing => {
            let _ = sink.send(serde_json::json!(false)).await;
            sink.closed().await;
        }
    }
}

/// Every item `publish` sends.
#[rpc_subscription]
pub async fn news(flags: State<'_, Flags>, sink: Sink<String>) {
    flags.news.attach(sink).await;
}

/// Sends `text` to every subscriber of `news`; answers how many got it.
#[rpc_method]
pub fn publish(flags: State<'_, Flags>, text: String) -> usize {
    flags.news.send(&text).unwrap_or(0)
}

/// Panics once subscribed.
#[rpc_subscription]
async fn explode(sink: Sink<u8>) {
    let _ = sink.send(1).await;
    panic!("a subscription panicked");
}

pub fn router() -> Router<Flags> {
    let mut router = Router::with_state(Flags::default());
    router
        .register(add::method())
        .and_then(|r| r.register(slow::method()))
        .and_then(|r| r.register(boom::method()))
        .and_then(|r| r.register(big::method()))
        .and_then(|r| r.register(context::method()))
        .and_then(|r| r.register(whoami::method()))
        .and_then(|r| r.register(countdown::method()))
        .and_then(|r| r.register(eth::method()))
        .and_then(|r| r.register(news::method()))
        .and_then(|r| r.register(publish::method()))
        .and_then(|r| r.register(explode::method()))
        .unwrap();
    router
}

/// A server running on its own task, shut down gracefully when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub router: Arc<Router<Flags>>,
    shutdown: Option<oneshot::Sender<()>>,
    pub task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Starts the test router with `configure` applied to the endpoint and the server.
    pub async fn start(
        endpoint: impl FnOnce(RpcService<Flags>) -> RpcService<Flags>,
        server: impl FnOnce(Serve<RpcService<Flags>>) -> Serve<RpcService<Flags>>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::on(listener, endpoint, server)
    }

    /// The default server on `addr` (a port a stopped server used: tried for a while).
    pub async fn at(addr: SocketAddr) -> Self {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            match TcpListener::bind(addr).await {
                Ok(listener) => return Self::on(listener, |e| e, |s| s),
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(err) => panic!("cannot bind {addr} again: {err}"),
            }
        }
    }

    fn on(
        listener: TcpListener,
        endpoint: impl FnOnce(RpcService<Flags>) -> RpcService<Flags>,
        server: impl FnOnce(Serve<RpcService<Flags>>) -> Serve<RpcService<Flags>>,
    ) -> Self {
        let addr = listener.local_addr().unwrap();
        let service = endpoint(RpcService::new(router()));
        let router = Arc::clone(service.router());
        let (tx, rx) = oneshot::channel::<()>();
        let serve = server(rpc_hyper::serve(listener, service)).with_graceful_shutdown(async {
            rx.await.ok();
        });
        let task = tokio::spawn(serve.into_future());
        Self {
            addr,
            router,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub async fn default() -> Self {
        Self::start(|e| e, |s| s).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Signals shutdown and waits for the server to return.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.shutdown.take().unwrap().send(()).ok();
        tokio::time::timeout(STEP, self.task.take().unwrap())
            .await
            .expect("server stops")
            .unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

use std::future::IntoFuture;

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub version: http::Version,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

pub fn http1() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

#[cfg(feature = "http2")]
pub fn h2c() -> HttpClient {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http()
}

/// A client for each protocol the server speaks: HTTP/1.1, and h2c with the `http2` feature.
pub fn each_protocol() -> Vec<HttpClient> {
    vec![
        http1(),
        #[cfg(feature = "http2")]
        h2c(),
    ]
}

/// Sends a request and reads the whole response.
pub async fn send(
    client: &HttpClient,
    method: &str,
    url: &str,
    content_type: Option<&str>,
    body: &str,
) -> Reply {
    let headers: &[(&str, &str)] = match content_type {
        Some(content_type) => &[("content-type", content_type)],
        None => &[],
    };
    send_with(client, method, url, headers, body).await
}

/// POSTs a JSON body with more headers.
pub async fn post_with(
    client: &HttpClient,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    send_with(client, "POST", url, &all, body).await
}

/// Sends a request with these headers and reads the whole response.
pub async fn send_with(
    client: &HttpClient,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut request = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = tokio::time::timeout(STEP, client.request(request))
        .await
        .expect("answered in time")
        .unwrap();
    let status = response.status().as_u16();
    let version = response.version();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        version,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// POSTs a JSON body.
pub async fn post(client: &HttpClient, url: &str, body: &str) -> Reply {
    send(client, "POST", url, Some("application/json"), body).await
}

/// A raw HTTP/1.1 request as bytes.
pub fn raw_post(body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one HTTP/1.1 response with a Content-Length (or none) from a raw stream.
pub async fn read_response(stream: &mut TcpStream) -> Option<(u16, String)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(STEP, async {
        while !buf.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.ok()? == 0 {
                return None;
            }
            buf.push(byte[0]);
        }
        let head = String::from_utf8(buf.clone()).ok()?;
        let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().to_owned())
            })
            .map_or(0, |v| v.parse().unwrap_or(0));
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).await.ok()?;
        Some((status, String::from_utf8(body).ok()?))
    })
    .await
    .expect("a response or a close in time")
}

/// Waits until the peer closes `stream` (read gives 0 or an error); false if it stays open
/// for `within`.
pub async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

pub async fn write_all(stream: &mut TcpStream, bytes: &[u8]) {
    tokio::time::timeout(STEP, stream.write_all(bytes))
        .await
        .expect("written in time")
        .unwrap();
}

pub async fn connect(addr: SocketAddr) -> TcpStream {
    tokio::time::timeout(STEP, TcpStream::connect(addr))
        .await
        .expect("connected in time")
        .unwrap()
}

/// Reads one request's head and body (by its Content-Length); false at the end of the stream.
pub async fn read_request(stream: &mut tokio::net::TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = stream.read(&mut buf).await else {
            return false;
        };
        if n == 0 {
            return false;
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen);
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|line| {
                    let value = line.to_ascii_lowercase();
                    value.strip_prefix("content-length: ")?.trim().parse().ok()
                })
                .unwrap_or(0usize);
            if seen.len() >= end + 4 + len {
                return true;
            }
        }
    }
}
