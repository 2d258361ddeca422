//! Each call runs in a debug span `rpc_call` with its method, id, duration and outcome, entered
//! while it runs (sync, and on every poll of an async call).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rpc_core::{rpc_method, ErrorObject, Router};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> Result<i64, ErrorObject> {
    a.checked_add(b)
        .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
}

/// Adds later.
#[rpc_method]
async fn add_later(a: i64, b: i64) -> i64 {
    tokio::task::yield_now().await;
    a + b
}

#[derive(Default)]
struct Recorded {
    /// Span name and its fields as text, by span id - 1.
    spans: Vec<(String, String)>,
    /// How many times each span was entered.
    entered: Vec<usize>,
}

#[derive(Clone, Default)]
struct Recorder {
    recorded: Arc<Mutex<Recorded>>,
    next: Arc<AtomicU64>,
}

struct Text<'a>(&'a mut String);

impl Visit for Text<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = String::new();
        span.record(&mut Text(&mut fields));
        let mut recorded = self.recorded.lock().unwrap();
        recorded
            .spans
            .push((span.metadata().name().to_owned(), fields));
        recorded.entered.push(0);
        Id::from_u64(self.next.fetch_add(1, Ordering::SeqCst) + 1)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut recorded = self.recorded.lock().unwrap();
        let index = usize::try_from(span.into_u64() - 1).unwrap();
        values.record(&mut Text(&mut recorded.spans[index].1));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, span: &Id) {
        let index = usize::try_from(span.into_u64() - 1).unwrap();
        self.recorded.lock().unwrap().entered[index] += 1;
    }
    fn exit(&self, _: &Id) {}
}

#[test]
fn every_call_runs_in_a_span_with_method_id_duration_and_outcome() {
    let mut router = Router::new();
    router
        .register(add::method())
        .unwrap()
        .register(add_later::method())
        .unwrap();
    let recorder = Recorder::default();
    let recorded = Arc::clone(&recorder.recorded);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    tracing::subscriber::with_default(recorder, || {
        runtime.block_on(async {
            router.handle(br#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":7}"#).await;
            router.handle(br#"{"jsonrpc":"2.0","method":"add","params":[9223372036854775807,1],"id":"x"}"#).await;
            router.handle(br#"{"jsonrpc":"2.0","method":"add_later","params":[1,2],"id":8}"#).await;
        });
    });
    let recorded = recorded.lock().unwrap();
    let calls: Vec<(&String, usize)> = recorded
        .spans
        .iter()
        .zip(&recorded.entered)
        .filter(|((name, _), _)| name == "rpc_call")
        .map(|((_, fields), entered)| (fields, *entered))
        .collect();
    assert_eq!(calls.len(), 3, "{:?}", recorded.spans);
    let (fields, entered) = calls[0];
    assert!(
        fields.contains(r#"method="add""#) && fields.contains(r#"id="7""#),
        "{fields}"
    );
    assert!(
        fields.contains("micros=") && fields.contains(r#"outcome="ok""#),
        "{fields}"
    );
    // Entered for the call, and once more to log its closing event.
    assert_eq!(entered, 2);
    assert!(calls[1].0.contains(r#"outcome="error""#), "{}", calls[1].0);
    let (fields, entered) = calls[2];
    assert!(
        fields.contains(r#"method="add_later""#) && fields.contains(r#"outcome="ok""#),
        "{fields}"
    );
    assert!(
        entered >= 4,
        "an async call's span is entered at its start, at each of its (two) polls, and to log: {entered}"
    );
}
