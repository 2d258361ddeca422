//! With a subscriber listening at debug level, each request runs in an `rpc_request` span and
//! logs its status when answered; the answer is the same as untraced.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use rpc_core::{rpc_method, Router};
use rpc_hyper::RpcService;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// Records span names, and the `status` of events, in order.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<String>>>,
    next: Arc<AtomicU64>,
}

struct Status<'a>(&'a mut Vec<String>);

impl Visit for Status<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.0.push(format!("status {value}"));
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.seen
            .lock()
            .unwrap()
            .push(span.metadata().name().to_owned());
        Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        event.record(&mut Status(&mut self.seen.lock().unwrap()));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a sync method and a full body never wait"),
    }
}

#[test]
fn a_traced_request_runs_in_its_span_and_logs_its_status() {
    let mut router = Router::new();
    router.register(add::method()).unwrap();
    let service = RpcService::new(router).path("/");
    let request = |path: &str| {
        http::Request::post(path)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(
                br#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#,
            )))
            .unwrap()
    };
    let recorder = Recorder::default();
    let (answered, refused) = tracing::subscriber::with_default(recorder.clone(), || {
        let answered = now(hyper::service::Service::call(&service, request("/"))).unwrap();
        let refused = now(hyper::service::Service::call(&service, request("/nowhere"))).unwrap();
        (answered, refused)
    });
    assert_eq!(answered.status(), 200);
    let body = now(answered.into_body().collect()).unwrap().to_bytes();
    assert_eq!(body, r#"{"jsonrpc":"2.0","result":5,"id":1}"#);
    assert_eq!(refused.status(), 404);
    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "rpc_request",
            "rpc_call",
            "status 200",
            "rpc_request",
            "status 404"
        ]
    );
}
