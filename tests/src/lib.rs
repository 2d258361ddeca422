#![doc = include_str!("../../README.md")]
//!
//! ---
//!
//! This crate holds the end-to-end tests; the README above is its documentation, so that the
//! README's Rust code is compiled as a doctest. The helpers below start the calculator on
//! `127.0.0.1:0` and talk HTTP to it, every wait bounded.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The longest one request may take in a test.
pub const STEP: Duration = Duration::from_secs(10);

/// The calculator, served in this process on a free loopback port until dropped.
#[derive(Debug)]
pub struct Calculator {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Calculator {
    /// Starts it.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(rpc_examples::calculator::serve(listener, async {
            stopped.await.ok();
        }));
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// The URL of `path` on it.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops it gracefully and waits for it.
    ///
    /// # Panics
    /// If it does not stop in time or fails.
    pub async fn stop(mut self) {
        self.stop.take().map(|stop| stop.send(()));
        let task = &mut self.task;
        tokio::time::timeout(STEP, task)
            .await
            .expect("stops in time")
            .expect("joins")
            .expect("no error");
    }
}

impl Drop for Calculator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        self.task.abort();
    }
}

/// An HTTP/1.1 client, or an h2c one.
pub fn client(http2: bool) -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new())
        .http2_only(http2)
        .build_http()
}

/// Sends `body` (with `Content-Type: application/json` unless `GET`) and returns the status and
/// the body as text.
///
/// # Panics
/// If the exchange fails or takes longer than [`STEP`].
pub async fn send(
    client: &Client<HttpConnector, Full<Bytes>>,
    method: &str,
    url: &str,
    body: &str,
) -> (u16, String) {
    let mut request = http::Request::builder().method(method).uri(url);
    if method != "GET" {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("a request");
    let exchange = async {
        let response = client.request(request).await.expect("a response");
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        (status, String::from_utf8(body.to_vec()).expect("UTF-8"))
    };
    tokio::time::timeout(STEP, exchange)
        .await
        .expect("answered in time")
}
