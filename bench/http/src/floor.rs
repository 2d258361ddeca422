//! The HTTP floors: the leanest hyper server there is (`http1::Builder`, no protocol
//! detection, no timers) on the library's tokio setup, answering a fixed reply, or the serde
//! floor's answer (`rpc-core/benches/support/floor.rs`: serde into borrowed types, the sum,
//! serde out). Shared by this crate's server and `bench_floor`'s TLS floor.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The serde floor, shared with rpc-core's in-process benchmarks.
#[path = "../../../rpc-core/benches/support/floor.rs"]
mod serde_floor;

/// What the fixed floor answers, whatever it is sent.
pub(crate) const FIXED: &[u8] = br#"{"jsonrpc":"2.0","result":5,"id":1}"#;

/// The serde floor's answer to `body`: one call or a batch.
fn answer(body: &[u8]) -> Vec<u8> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        serde_floor::batch(body)
    } else {
        serde_floor::single(body)
    }
}

/// Reads the body whole, and answers the fixed reply or (`parse`) the serde floor's.
pub(crate) async fn respond(
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
        Bytes::from(answer(&body))
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

/// Serves the fixed floor or (`parse`) the serde floor on `listener` until `stop` completes,
/// each connection with hyper's HTTP/1 alone.
pub(crate) async fn serve(
    listener: TcpListener,
    parse: bool,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut stop => return Ok(()),
        };
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| respond(request, parse));
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
                .ok();
        });
    }
}
