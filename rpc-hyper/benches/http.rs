//! The HTTP server against the floor: a minimal hyper server answering a fixed reply, both on
//! loopback in this process, driven by hyper's client over keep-alive connections.
//!
//! Run with `cargo bench -p rpc-hyper --bench http`.
#![allow(missing_docs)]

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rpc_core::{rpc_method, Router};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

const CALL: &[u8] = br#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#;
const REPLY: &[u8] = br#"{"jsonrpc":"2.0","result":5,"id":1}"#;

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

async fn start_rpc() -> SocketAddr {
    let mut router = Router::new();
    router.register(add::method()).expect("one registration");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(rpc_hyper::serve(listener, router).into_future());
    addr
}

/// The floor: hyper answering every request with the same bytes, body unread.
async fn start_fixed() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            stream.set_nodelay(true).ok();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_: Request<Incoming>| async {
                    let mut response = Response::new(Full::new(Bytes::from_static(REPLY)));
                    response.headers_mut().insert(
                        "content-type",
                        http::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                });
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                    .ok();
            });
        }
    });
    addr
}

async fn call(client: &Client<HttpConnector, Full<Bytes>>, url: &str) {
    let request = Request::post(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(CALL)))
        .expect("request");
    let response = client.request(request).await.expect("response");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(&body[..], REPLY);
}

use std::future::IntoFuture;

fn http(c: &mut Criterion) {
    let runtime = Runtime::new().expect("runtime");
    let (rpc, fixed) = runtime.block_on(async { (start_rpc().await, start_fixed().await) });
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let servers = [
        ("fixed", format!("http://{fixed}/")),
        ("rpc", format!("http://{rpc}/")),
    ];

    let mut group = c.benchmark_group("round_trip");
    group.throughput(Throughput::Elements(1));
    for (name, url) in &servers {
        group.bench_function(*name, |b| b.iter(|| runtime.block_on(call(&client, url))));
    }
    group.finish();

    let mut group = c.benchmark_group("concurrent64");
    group.throughput(Throughput::Elements(64));
    for (name, url) in &servers {
        group.bench_function(*name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let calls: Vec<_> = (0..64)
                        .map(|_| {
                            let client = client.clone();
                            let url = url.clone();
                            tokio::spawn(async move { call(&client, &url).await })
                        })
                        .collect();
                    for task in calls {
                        task.await.expect("call");
                    }
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, http);
criterion_main!(benches);
