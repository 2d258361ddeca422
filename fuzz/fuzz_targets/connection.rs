//! A WebSocket connection's messages, as the transport hands them to the dispatcher: the
//! fuzzer's bytes are split into messages (at each 0xFF byte, which JSON text never holds),
//! each handled with the connection's outbox, the subscriptions started driven, and what they
//! queue taken, in the transport's order. Checked: no panic; every answer well-formed; every
//! notification a well-formed one, of a subscription whose id was answered before it, in
//! order; nothing of a subscription after its unsubscribe answer; the outbox's bounds hold.
//! A message `!` unsubscribes the latest subscription answered.
//!
//! Both directions: the connection has a peer too, and a message `?` sends the other side a
//! request through it. Checked besides: the peer's requests come out well-formed, each with
//! an id of its own used once; a request ends only once a message held an answer with its id;
//! the bound on requests in flight holds; at the end every request left fails as closed.
#![no_main]

mod common;

use std::collections::{HashMap, HashSet};
use std::future::{Future as _, IntoFuture};
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context as TaskContext, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use rpc_core::{
    rpc_method, rpc_subscription, BoxFuture, Broadcast, Context, Note, Outbox, OutboxLimits, Peer,
    PeerError, PeerSettings, Router, Sink, State, Subscription, SubscriptionId, Taken,
};
use serde_json::Value;

#[derive(Default)]
struct Feed {
    news: Broadcast<String>,
}

/// Counts down from `from` (at most 50) to 0.
#[rpc_subscription]
async fn countdown(from: u8, sink: Sink<u64>) {
    for n in (0..=u64::from(from.min(50))).rev() {
        if sink.send(n).await.is_err() {
            return;
        }
    }
}

/// Every item `publish` sends.
#[rpc_subscription(
    name = "eth_subscribe",
    unsubscribe = "eth_unsubscribe",
    notification = "eth_subscription"
)]
async fn news(feed: State<'_, Feed>, sink: Sink<String>) {
    feed.news.attach(sink).await;
}

/// Broadcasts `text`.
#[rpc_method]
fn publish(feed: State<'_, Feed>, text: String) -> usize {
    feed.news.send(&text).unwrap_or(0)
}

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

static ROUTER: LazyLock<Router<Feed>> = LazyLock::new(|| {
    let mut router = Router::with_state(Feed::default()).max_batch_len(16);
    router.register(countdown::method()).unwrap();
    router.register(news::method()).unwrap();
    router.register(publish::method()).unwrap();
    router.register(add::method()).unwrap();
    router
});

fuzz_target!(|data: &[u8]| {
    let outbox = Outbox::new(
        OutboxLimits::default()
            .max_subscriptions(8)
            .max_queued(16, 4096)
            .max_message_len(1024),
    );
    let peer = Peer::new(
        outbox.clone(),
        PeerSettings::default().max_requests_in_flight(4),
        never,
    );
    let cx = Context::new().with_outbox(&outbox).with_peer_handle(&peer);
    // The peer's requests in flight; how many were made and have ended; the ids some
    // message answered.
    let mut asked: Vec<Asking<'_>> = Vec::new();
    let (mut questions, mut answered_requests) = (0u64, 0usize);
    let mut answers_seen: HashSet<u64> = HashSet::new();
    let mut requests_sent: HashSet<u64> = HashSet::new();
    let mut running: Vec<Pin<Box<Subscription<'_>>>> = Vec::new();
    let mut task = TaskContext::from_waker(Waker::noop());
    // The subscriptions answered, with the last number each sent; those unsubscribed.
    let mut answered: HashMap<String, Option<u64>> = HashMap::new();
    let mut ended: HashSet<String> = HashSet::new();
    // Those whose method returned: what they queued before still goes.
    let mut finished: HashSet<String> = HashSet::new();
    let mut notes: Vec<Note> = Vec::new();
    let mut last_id = String::new();
    for message in data.split(|&b| b == 0xFF) {
        // `!` unsubscribes the latest subscription: ids are unguessable, even to a fuzzer.
        let unsubscribe;
        if message.first() == Some(&b'?') {
            let mut asking: Asking<'_> =
                Box::pin(peer.request::<Value, _>("ask", ()).into_future());
            // Polled once: it takes a place and queues its request, or waits for room.
            let _ = asking.as_mut().poll(&mut task);
            asked.push(asking);
            questions += 1;
            continue;
        }
        answers_seen.extend(answer_ids(message));
        let message = if message.first() == Some(&b'!') {
            // Whichever kind it is, one of the two ends it.
            unsubscribe = format!(
                r#"[{{"jsonrpc":"2.0","method":"unsubscribe_countdown","params":["{last_id}"],"id":0}},{{"jsonrpc":"2.0","method":"eth_unsubscribe","params":["{last_id}"],"id":0}}]"#
            );
            unsubscribe.as_bytes()
        } else {
            message
        };
        let handled = ROUTER
            .handle_sync_push(message, &cx)
            .expect("every method is sync");
        if let Some(answer) = &handled.response {
            for response in responses(answer) {
                if let Some(id) = response.get("result").and_then(Value::as_str) {
                    if SubscriptionId::parse(id).is_some() {
                        answered.insert(id.to_owned(), None);
                        last_id = id.to_owned();
                    }
                }
            }
        }
        // Unsubscribed by now (ended, and not by its method returning): nothing of it may be
        // taken from here on.
        for id in answered.keys() {
            if !finished.contains(id) && !outbox.is_alive(SubscriptionId::parse(id).unwrap()) {
                ended.insert(id.clone());
            }
        }
        common::check_answer(handled.response);
        running.extend(handled.subscriptions.into_iter().map(Box::pin));
        running.retain_mut(|s| {
            let pending = s.as_mut().poll(&mut task).is_pending();
            if !pending {
                finished.insert(s.id().to_string());
            }
            pending
        });
        // A request ends only once an answer with one of the ids handed out came (no time
        // limit here, and no close yet): never more of them end than such answers came.
        asked.retain_mut(|asking| asking.as_mut().poll(&mut task).is_pending());
        answered_requests = questions as usize - asked.len();
        let answerable = answers_seen
            .iter()
            .filter(|id| (1..=questions).contains(*id))
            .count();
        assert!(
            answered_requests <= answerable,
            "a request ended with no answer"
        );
        assert!(peer.requests_in_flight() <= 4);
        assert!(outbox.subscriptions() <= 8);
        assert!(outbox.queued() <= 16);
        // A message that begins with a space leaves the queue for later, as a transport busy
        // writing does: what an unsubscribe drops must then never come out.
        if message.first() == Some(&b' ') {
            continue;
        }
        if let Poll::Ready(Taken::Lagged) = outbox.poll_take(&mut task, &mut notes) {
            return;
        }
        for note in notes.drain(..) {
            let text = note.parts().concat();
            let value: Value = serde_json::from_slice(&text).expect("a notification is JSON");
            assert_eq!(value["jsonrpc"], "2.0");
            if note.subscription().is_none() {
                // The peer's request: ids of its own, each once, one per request made (a
                // request that waited for room may go after a later one).
                assert_eq!(value["method"], "ask");
                let id = value["id"].as_u64().expect("a number id");
                assert!((1..=questions).contains(&id), "an id of its own");
                assert!(requests_sent.insert(id), "an id used twice");
                continue;
            }
            assert!(value.get("id").is_none());
            let id = value["params"]["subscription"]
                .as_str()
                .expect("a subscription id");
            assert!(!ended.contains(id), "an item after its unsubscribe answer");
            let last = answered
                .get_mut(id)
                .expect("an item before its subscribe answer");
            if value["method"] == "countdown" {
                let n = value["params"]["result"].as_u64().expect("a number");
                if let Some(previous) = *last {
                    assert_eq!(n + 1, previous, "out of order");
                }
                *last = Some(n);
            }
        }
    }
    outbox.close();
    peer.close();
    let _ = answered_requests;
    for mut asking in asked {
        match asking.as_mut().poll(&mut task) {
            Poll::Ready(Err(PeerError::Closed)) | Poll::Ready(Ok(_)) | Poll::Ready(Err(_)) => {}
            Poll::Pending => panic!("a request outlives its connection"),
        }
    }
    running.retain_mut(|s| s.as_mut().poll(&mut task).is_pending());
    assert!(
        running.is_empty(),
        "closing the outbox ends every subscription"
    );
    assert_eq!(outbox.subscriptions(), 0);
});

/// A request to the peer, in flight.
type Asking<'p> = Pin<Box<dyn std::future::Future<Output = Result<Value, PeerError>> + Send + 'p>>;

/// No time limit: the fuzzer's connection has no clock.
fn never(_: std::time::Duration) -> BoxFuture<'static, ()> {
    Box::pin(std::future::pending())
}

/// The numeric ids of the answers (objects with no `method`) a message holds.
fn answer_ids(message: &[u8]) -> Vec<u64> {
    let items = match serde_json::from_slice::<Value>(message) {
        Ok(Value::Array(items)) => items,
        Ok(item) => vec![item],
        Err(_) => return Vec::new(),
    };
    items
        .iter()
        .filter(|item| item.is_object() && item.get("method").is_none())
        .filter_map(|item| item.get("id")?.as_u64())
        .collect()
}

/// The responses in an answer: one, or a batch's.
fn responses(answer: &[u8]) -> Vec<Value> {
    match serde_json::from_slice::<Value>(answer) {
        Ok(Value::Array(items)) => items,
        Ok(item) => vec![item],
        Err(_) => Vec::new(),
    }
}
