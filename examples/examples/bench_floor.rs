//! Servers for the HTTP benchmarks (`scripts/bench-http.sh`). The floors are the leanest hyper
//! server there is (`http1::Builder`, no protocol detection, no timers), on the same tokio
//! setup as the library, so that the differences are the library's own:
//!
//! - `bench_floor fixed ADDR`: reads the body, answers a fixed reply: what any server costs;
//! - `bench_floor serde ADDR`: reads the body, parses it with serde into borrowed types (one call
//!   or a batch), adds, serializes: the least any JSON-RPC server must do;
//! - `bench_floor rpc ADDR`: `rpc_hyper::serve` with an `add` method, no other routes;
//! - `bench_floor rpc-context ADDR`: the same, with an `add` that reads a value from the call's
//!   context (the request's headers) and one call layer that does nothing: what the context
//!   and the layers cost when used.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rpc_core::{rpc_method, CallLayer, Ext, HeaderMap, Router};
use tokio::net::TcpListener;

const FIXED: &[u8] = br#"{"jsonrpc":"2.0","result":5,"id":1}"#;

/// The serde floor, shared with rpc-core's in-process benchmarks.
#[path = "../../rpc-core/benches/support/floor.rs"]
mod floor;

fn serde_floor(body: &[u8]) -> Vec<u8> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        floor::batch(body)
    } else {
        floor::single(body)
    }
}

async fn floor(
    request: Request<Incoming>,
    parse: bool,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let reply = if parse {
        Bytes::from(serde_floor(&body))
    } else {
        Bytes::from_static(FIXED)
    };
    let mut response = Response::new(Full::new(reply));
    response.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// Adds two integers, reading the request's headers from the context.
#[rpc_method(name = "add")]
fn add_in_context(a: i64, b: i64, headers: Ext<'_, HeaderMap>) -> i64 {
    let one_more = i64::from(headers.contains_key("x-one-more"));
    a.wrapping_add(b).wrapping_add(one_more)
}

/// A call layer that does nothing.
struct Nothing;

impl CallLayer for Nothing {}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(addr)) = (args.next(), args.next()) else {
        eprintln!("usage: bench_floor fixed|serde|rpc|rpc-context HOST:PORT");
        std::process::exit(2);
    };
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "bench_floor {mode} listening on http://{}",
        listener.local_addr()?
    );
    let parse = match mode.as_str() {
        "fixed" => false,
        "serde" => true,
        "rpc" => {
            let mut router = Router::new();
            router.register(add::method()).expect("one registration");
            return rpc_hyper::serve(listener, router).await;
        }
        "rpc-context" => {
            let mut router = Router::new();
            router.layer(Nothing);
            router
                .register(add_in_context::method())
                .expect("one registration");
            return rpc_hyper::serve(listener, router).await;
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    };
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| floor(request, parse));
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
                .ok();
        });
    }
}
