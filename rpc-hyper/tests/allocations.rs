//! Heap allocations per HTTP request through the endpoint, counted and pinned.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http_body_util::Full;
use rpc_core::{rpc_method, Router};
use rpc_hyper::RpcService;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a sync method and a full body never wait"),
    }
}

#[test]
fn allocations_per_request_are_pinned() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut router = Router::new();
    router.register(add::method()).unwrap();
    let service = RpcService::new(router);
    let body =
        Bytes::from_static(br#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#);
    let request = || {
        http::Request::post("/")
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .unwrap()
    };
    const RUNS: u64 = 10;
    let mut total = 0;
    for _ in 0..RUNS {
        let request = request();
        let before = dhat::HeapStats::get().total_blocks;
        let response = now(hyper::service::Service::call(&service, request)).unwrap();
        total += dhat::HeapStats::get().total_blocks - before;
        assert_eq!(response.status(), 200);
    }
    // The response buffer and the shared handle `Bytes` puts on it; the response's header
    // map (its index and its entries). The body is not copied (it arrives in one chunk), and
    // the response future is not boxed (every method is sync).
    assert_eq!(total / RUNS, ALLOCS_PER_REQUEST);
}

const ALLOCS_PER_REQUEST: u64 = 4;
