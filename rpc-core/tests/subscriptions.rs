//! Subscriptions, transport-agnostic: the dispatcher starts them, an outbox queues their
//! notifications, and these tests stand in for the transport.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context as TaskContext, Poll, Waker};

use rpc_core::{
    rpc_method, rpc_subscription, Broadcast, Context, Ext, Method, Note, Outbox, OutboxLimits,
    Router, Sink, State, Subscription, SubscriptionId, Taken,
};
use serde_json::{json, Value};

/// Counts down from `from` to 0.
#[rpc_subscription]
async fn countdown(from: u64, sink: Sink<u64>) {
    for n in (0..=from).rev() {
        if sink.send(n).await.is_err() {
            return;
        }
    }
}

/// Sends nothing, until the client leaves.
#[rpc_subscription(name = "watch", unsubscribe = "unwatch", notification = "seen")]
async fn idle(sink: Sink<u64>) {
    sink.closed().await;
}

/// Panics at once.
#[rpc_subscription]
async fn boom(sink: Sink<u64>) {
    let _ = sink.send(1).await;
    panic!("boom");
}

/// Drives the subscriptions as a transport would, as far as they go without waiting.
fn drive(subscriptions: &mut Vec<Pin<Box<Subscription<'_>>>>) {
    let mut task = TaskContext::from_waker(Waker::noop());
    subscriptions.retain_mut(|s| s.as_mut().poll(&mut task).is_pending());
}

/// What the outbox holds, as JSON values.
fn take(outbox: &Outbox) -> Vec<Value> {
    let mut notes: Vec<Note> = Vec::new();
    let mut task = TaskContext::from_waker(Waker::noop());
    if let Poll::Ready(Taken::Notes) = outbox.poll_take(&mut task, &mut notes) {
        notes
            .iter()
            .map(|note| serde_json::from_slice(&note.parts().concat()).unwrap())
            .collect()
    } else {
        Vec::new()
    }
}

fn call<'r>(
    router: &'r Router<impl Send + Sync + 'static>,
    cx: &'r Context<'r>,
    body: &str,
    into: &mut Vec<Pin<Box<Subscription<'r>>>>,
) -> Option<Value> {
    let handled = router.handle_sync_push(body.as_bytes(), cx).unwrap();
    into.extend(handled.subscriptions.into_iter().map(Box::pin));
    handled
        .response
        .map(|body| serde_json::from_slice(&body).unwrap())
}

fn router() -> Router {
    let mut router = Router::new();
    router
        .register(countdown::method())
        .unwrap()
        .register(idle::method())
        .unwrap()
        .register(boom::method())
        .unwrap();
    router
}

#[test]
fn the_answer_gives_the_id_then_items_come_in_order_then_nothing() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    let answer = call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[2],"id":1}"#,
        &mut subs,
    )
    .unwrap();
    let id = answer["result"].as_str().unwrap().to_owned();
    assert_eq!(answer["id"], 1);
    assert!(id.starts_with("0x") && id.len() == 34, "{id}");
    assert!(id[2..]
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    // Nothing is sent before the transport drives the subscription.
    assert!(take(&outbox).is_empty());
    assert_eq!(outbox.subscriptions(), 1);

    drive(&mut subs);
    assert!(subs.is_empty(), "the method ended");
    let notes = take(&outbox);
    let expected: Vec<Value> = (0..=2)
        .rev()
        .map(|n| json!({"jsonrpc":"2.0","method":"countdown","params":{"subscription":id,"result":n}}))
        .collect();
    assert_eq!(notes, expected);
    assert_eq!(outbox.subscriptions(), 0, "ended with its method");
    assert!(take(&outbox).is_empty());
    // Ended: unsubscribing it is `false`.
    let body =
        format!(r#"{{"jsonrpc":"2.0","method":"unsubscribe_countdown","params":["{id}"],"id":2}}"#);
    assert_eq!(
        call(&router, &cx, &body, &mut subs).unwrap()["result"],
        false
    );
}

#[test]
fn subscription_before_result_in_the_notification_text() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":{"from":0},"id":1}"#,
        &mut subs,
    );
    drive(&mut subs);
    let mut notes = Vec::new();
    let _ = outbox.poll_take(&mut TaskContext::from_waker(Waker::noop()), &mut notes);
    let text = String::from_utf8(notes[0].parts().concat()).unwrap();
    let subscription = text.find(r#""subscription":"#).unwrap();
    let result = text.find(r#""result":0"#).unwrap();
    assert!(subscription < result, "{text}");
    assert!(text.starts_with(r#"{"jsonrpc":"2.0","method":"countdown","params":{"#));
}

#[test]
fn over_a_transport_that_cannot_push_the_call_says_so() {
    let router = router();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let body = br#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[3],"id":7}"#;
    let answer: Value = serde_json::from_slice(&rt.block_on(router.handle(body)).unwrap()).unwrap();
    assert_eq!(answer["error"]["code"], -32009);
    assert_eq!(
        answer["error"]["message"],
        "Subscriptions need a WebSocket connection"
    );
    assert_eq!(answer["id"], 7);
    // The unsubscribe method answers `false`: nothing is alive there.
    let body = br#"{"jsonrpc":"2.0","method":"unsubscribe_countdown","params":["0x00000000000000000000000000000001"],"id":8}"#;
    let answer: Value = serde_json::from_slice(&rt.block_on(router.handle(body)).unwrap()).unwrap();
    assert_eq!(answer["result"], false);
}

#[test]
fn unsubscribing_ends_it_drops_what_is_queued_and_answers_true_once() {
    let router = router();
    // Room for one notification: the countdown waits with the rest.
    let outbox = Outbox::new(OutboxLimits::default().max_queued(1, 1 << 20));
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    let answer = call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[100],"id":1}"#,
        &mut subs,
    )
    .unwrap();
    let id = answer["result"].as_str().unwrap().to_owned();
    drive(&mut subs);
    assert_eq!(subs.len(), 1, "waiting for room");
    assert_eq!(outbox.queued(), 1);

    let body =
        format!(r#"{{"jsonrpc":"2.0","method":"unsubscribe_countdown","params":["{id}"],"id":2}}"#);
    assert_eq!(
        call(&router, &cx, &body, &mut subs).unwrap()["result"],
        true
    );
    assert!(take(&outbox).is_empty(), "no item of it after the answer");
    drive(&mut subs);
    assert!(subs.is_empty(), "its future was dropped");
    assert!(take(&outbox).is_empty());
    assert_eq!(
        call(&router, &cx, &body, &mut subs).unwrap()["result"],
        false
    );

    for params in [
        r#"["0x1"]"#,
        r#"["nonsense"]"#,
        r#"["0X00000000000000000000000000000001"]"#,
    ] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"unsubscribe_countdown","params":{params},"id":3}}"#
        );
        assert_eq!(
            call(&router, &cx, &body, &mut subs).unwrap()["result"],
            false,
            "{params}"
        );
    }
    let body = r#"{"jsonrpc":"2.0","method":"unsubscribe_countdown","params":[12],"id":4}"#;
    assert_eq!(
        call(&router, &cx, body, &mut subs).unwrap()["error"]["code"],
        -32602
    );
}

#[test]
fn another_connections_subscription_cannot_be_unsubscribed() {
    let router = router();
    let (mine, theirs) = (Outbox::default(), Outbox::default());
    let cx_mine = Context::new().with_outbox(&mine);
    let cx_theirs = Context::new().with_outbox(&theirs);
    let mut subs = Vec::new();
    let answer = call(
        &router,
        &cx_theirs,
        r#"{"jsonrpc":"2.0","method":"watch","id":1}"#,
        &mut subs,
    )
    .unwrap();
    let id = answer["result"].as_str().unwrap();
    let body = format!(r#"{{"jsonrpc":"2.0","method":"unwatch","params":["{id}"],"id":2}}"#);
    assert_eq!(
        call(&router, &cx_mine, &body, &mut subs).unwrap()["result"],
        false
    );
    assert_eq!(theirs.subscriptions(), 1);
    assert_eq!(
        call(&router, &cx_theirs, &body, &mut subs).unwrap()["result"],
        true
    );
    assert_eq!(theirs.subscriptions(), 0);
}

#[test]
fn one_past_the_limit_is_refused_and_the_others_go_on() {
    let router = router();
    let outbox = Outbox::new(OutboxLimits::default().max_subscriptions(2));
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    let watch = r#"{"jsonrpc":"2.0","method":"watch","id":1}"#;
    assert!(call(&router, &cx, watch, &mut subs).unwrap()["result"].is_string());
    assert!(call(&router, &cx, watch, &mut subs).unwrap()["result"].is_string());
    let refused = call(&router, &cx, watch, &mut subs).unwrap();
    assert_eq!(
        refused["error"],
        json!({"code": -32010, "message": "Too many subscriptions", "data": {"limit": 2}})
    );
    assert_eq!(subs.len(), 2);
    assert_eq!(outbox.subscriptions(), 2);
    drive(&mut subs);
    assert_eq!(subs.len(), 2, "the others still run");
}

#[test]
fn the_default_limit_is_1024() {
    assert_eq!(rpc_core::DEFAULT_MAX_SUBSCRIPTIONS, 1024);
    assert_eq!(OutboxLimits::default().max_subscriptions, 1024);
}

#[test]
fn bad_params_answer_invalid_params_and_start_nothing() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    let answer = call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":["x"],"id":1}"#,
        &mut subs,
    )
    .unwrap();
    assert_eq!(answer["error"]["code"], -32602);
    assert!(subs.is_empty());
    assert_eq!(outbox.subscriptions(), 0);
}

#[test]
fn a_subscribe_notification_starts_nothing() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    assert!(call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"watch"}"#,
        &mut subs
    )
    .is_none());
    assert!(subs.is_empty());
    assert_eq!(outbox.subscriptions(), 0);
}

#[test]
fn a_panic_ends_that_subscription_only() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"watch","id":1}"#,
        &mut subs,
    );
    call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_boom","id":2}"#,
        &mut subs,
    );
    drive(&mut subs);
    assert_eq!(subs.len(), 1, "the panicking one ended");
    assert_eq!(outbox.subscriptions(), 1);
    assert_eq!(take(&outbox).len(), 1, "what it sent before the panic goes");
}

#[test]
fn closing_the_outbox_ends_everything() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    for id in 0..3 {
        call(
            &router,
            &cx,
            &format!(r#"{{"jsonrpc":"2.0","method":"watch","id":{id}}}"#),
            &mut subs,
        );
    }
    drive(&mut subs);
    assert_eq!(subs.len(), 3);
    outbox.close();
    drive(&mut subs);
    assert!(subs.is_empty());
    assert_eq!(outbox.subscriptions(), 0);
    // A closed connection starts nothing more, and says why.
    let answer = call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"watch","id":9}"#,
        &mut subs,
    )
    .unwrap();
    assert_eq!(answer["error"]["code"], -32012);
    assert_eq!(answer["error"]["message"], "The server is shutting down");
}

#[test]
fn a_batch_may_subscribe_and_call() {
    let mut router = router();
    /// Adds.
    #[rpc_method]
    fn add(a: i64, b: i64) -> i64 {
        a + b
    }
    router.register(add::method()).unwrap();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    let answer = call(
        &router,
        &cx,
        r#"[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"subscribe_countdown","params":[1],"id":2}]"#,
        &mut subs,
    )
    .unwrap();
    assert_eq!(answer[0]["result"], 3);
    assert!(answer[1]["result"].is_string());
    assert_eq!(subs.len(), 1);
}

#[test]
fn ids_are_unique_and_do_not_count() {
    let router = router();
    let outbox = Outbox::new(OutboxLimits::default().max_subscriptions(10_000));
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut previous = None;
    let mut close = 0;
    for n in 0..2_000 {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"watch","id":{n}}}"#);
        let answer = call(&router, &cx, &body, &mut subs).unwrap();
        let id = SubscriptionId::parse(answer["result"].as_str().unwrap()).unwrap();
        assert!(ids.insert(id));
        let value = u128::from_str_radix(&id.to_string()[2..], 16).unwrap();
        if let Some(previous) = previous {
            // Neighbours in time are not neighbours in value.
            if value.abs_diff(previous) < 1 << 64 {
                close += 1;
            }
        }
        previous = Some(value);
    }
    assert!(close < 3, "{close} ids close to their predecessor");
}

/// What a subscription can take beside its sink.
struct Feed {
    started: AtomicUsize,
}

#[derive(Clone)]
struct User(&'static str);

/// Greets the user, from the state.
#[rpc_subscription(notification = "hello")]
async fn greet(feed: State<'_, Feed>, user: Ext<'_, User>, cx: &Context<'_>, sink: Sink<String>) {
    feed.started.fetch_add(1, Ordering::Relaxed);
    let peer = cx.peer().map_or("nowhere".to_owned(), |p| p.to_string());
    let _ = sink.send(format!("{} from {peer}", user.0)).await;
}

#[test]
fn state_ext_and_context_reach_a_subscription() {
    let mut router = Router::with_state(Feed {
        started: AtomicUsize::new(0),
    });
    router.register(greet::method()).unwrap();
    let outbox = Outbox::default();
    let mut extensions = rpc_core::Extensions::new();
    extensions.insert(User("ada"));
    let cx = Context::new()
        .with_outbox(&outbox)
        .with_extensions(&extensions);
    let mut subs = Vec::new();
    call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_greet","id":1}"#,
        &mut subs,
    );
    drive(&mut subs);
    assert_eq!(router.state().started.load(Ordering::Relaxed), 1);
    assert_eq!(take(&outbox)[0]["params"]["result"], "ada from nowhere");

    // Without the extension: -32603, and nothing starts.
    let bare = Context::new().with_outbox(&outbox);
    let mut none = Vec::new();
    let answer = call(
        &router,
        &bare,
        r#"{"jsonrpc":"2.0","method":"subscribe_greet","id":2}"#,
        &mut none,
    )
    .unwrap();
    assert!(none.is_empty());
    assert_eq!(answer["error"]["code"], -32603);
    assert_eq!(outbox.subscriptions(), 0);
}

#[test]
fn try_send_refuses_when_full_and_send_waits_for_room() {
    let outbox = Outbox::new(OutboxLimits::default().max_queued(2, 1 << 20));
    let kept = std::sync::Arc::new(std::sync::Mutex::new(None));
    let keep = std::sync::Arc::clone(&kept);
    let mut router = Router::new();
    router
        .register(Method::new_subscription(
            "sub",
            "note",
            "unsub",
            move |_: &(), _: &Context<'_>, _, raw| {
                *keep.lock().unwrap() = Some(Sink::<u32>::from_raw(raw.clone()));
                Ok(Box::pin(async move { raw.closed().await }))
            },
        ))
        .unwrap();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"sub","id":1}"#,
        &mut subs,
    );
    let sink = kept.lock().unwrap().take().unwrap();
    assert!(
        sink.try_send(1).unwrap_err().is_not_started(),
        "not before the answer"
    );
    drive(&mut subs);
    assert!(sink.try_send(1).is_ok());
    assert!(sink.try_send(2).is_ok());
    let full = sink.try_send(3).unwrap_err();
    assert!(full.is_full() && !full.is_closed());

    let mut send = Box::pin(sink.send(3));
    let mut task = TaskContext::from_waker(Waker::noop());
    assert!(send.as_mut().poll(&mut task).is_pending(), "waits for room");
    assert_eq!(take(&outbox).len(), 2);
    assert_eq!(send.as_mut().poll(&mut task), Poll::Ready(Ok(())));
    assert_eq!(take(&outbox)[0]["params"]["result"], 3);

    // An item over the connection's message limit is refused; the subscription goes on.
    let small = Outbox::new(OutboxLimits::default().max_message_len(120));
    let cx = Context::new().with_outbox(&small);
    let mut subs = Vec::new();
    call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"sub","id":2}"#,
        &mut subs,
    );
    drive(&mut subs);
    let sink = kept.lock().unwrap().take().unwrap();
    let big = Sink::<String>::from_raw(sink.raw().clone());
    assert!(big.try_send("x".repeat(200)).unwrap_err().is_too_large());
    assert!(sink.try_send(1).is_ok());

    // Once ended, sends fail and `closed` resolves.
    let id = sink.id().to_string();
    let body = format!(r#"{{"jsonrpc":"2.0","method":"unsub","params":["{id}"],"id":3}}"#);
    assert_eq!(
        call(&router, &cx, &body, &mut subs).unwrap()["result"],
        true
    );
    assert!(sink.try_send(1).unwrap_err().is_closed());
    assert!(sink.is_closed());
    let mut closed = Box::pin(sink.closed());
    assert!(closed.as_mut().poll(&mut task).is_ready());
}

#[test]
fn registering_brings_the_unsubscribe_method_and_shares_it() {
    let mut router = Router::new();
    router.register(countdown::method()).unwrap();
    assert_eq!(router.methods().count(), 2);
    let unsubscribe = router.method_info("unsubscribe_countdown").unwrap();
    assert_eq!(unsubscribe.params[0].name, "subscription");

    /// Shares the unsubscribe method.
    #[rpc_subscription(unsubscribe = "unsubscribe_countdown")]
    async fn other(sink: Sink<u8>) {
        sink.closed().await;
    }
    router.register(other::method()).unwrap();
    assert_eq!(router.methods().count(), 3, "shared, not added twice");

    /// Clashes with a plain method's name.
    #[rpc_subscription(unsubscribe = "add")]
    async fn clash(sink: Sink<u8>) {
        sink.closed().await;
    }
    /// Adds.
    #[rpc_method]
    fn add(a: i64, b: i64) -> i64 {
        a + b
    }
    router.register(add::method()).unwrap();
    let err = router.register(clash::method()).unwrap_err();
    assert!(err.is_duplicate());
    assert_eq!(err.name(), "add");
    assert!(
        router.method_info("subscribe_clash").is_none(),
        "all or nothing"
    );

    let mut nested = Router::new();
    nested.nest("calc.", router).unwrap();
    let info = nested.method_info("calc.subscribe_countdown").unwrap();
    assert_eq!(
        info.subscription.as_ref().unwrap().unsubscribe,
        "calc.unsubscribe_countdown"
    );
    assert!(nested.method_info("calc.unsubscribe_countdown").is_some());
}

/// An item that counts how often it is serialized.
struct Counted<'a>(&'a AtomicUsize);

impl serde::Serialize for Counted<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.fetch_add(1, Ordering::Relaxed);
        serializer.serialize_str("block")
    }
}

struct Chain {
    blocks: Broadcast<Counted<'static>>,
}

/// Every block.
#[rpc_subscription]
async fn blocks(chain: State<'_, Chain>, sink: Sink<Counted<'static>>) {
    chain.blocks.attach(sink).await;
}

#[test]
fn a_broadcast_serializes_once_for_every_subscriber_and_detaches_the_gone() {
    static SERIALIZED: AtomicUsize = AtomicUsize::new(0);
    let mut router = Router::with_state(Chain {
        blocks: Broadcast::new(),
    });
    router.register(blocks::method()).unwrap();
    let outboxes: Vec<Outbox> = (0..10).map(|_| Outbox::default()).collect();
    let contexts: Vec<Context<'_>> = outboxes
        .iter()
        .map(|o| Context::new().with_outbox(o))
        .collect();
    let mut subs = Vec::new();
    let body = r#"{"jsonrpc":"2.0","method":"subscribe_blocks","id":1}"#;
    assert_eq!(router.state().blocks.send(&Counted(&SERIALIZED)), Ok(0));
    assert_eq!(
        SERIALIZED.load(Ordering::Relaxed),
        0,
        "no subscriber: not serialized"
    );
    for cx in &contexts {
        for _ in 0..10 {
            call(&router, cx, body, &mut subs);
        }
    }
    drive(&mut subs);
    assert_eq!(router.state().blocks.subscribers(), 100);
    assert_eq!(router.state().blocks.send(&Counted(&SERIALIZED)), Ok(100));
    assert_eq!(SERIALIZED.load(Ordering::Relaxed), 1);
    for outbox in &outboxes {
        let notes = take(outbox);
        assert_eq!(notes.len(), 10);
        assert!(notes
            .iter()
            .all(|n| n["method"] == "blocks" && n["params"]["result"] == "block"));
    }
    // One connection goes: its subscribers are detached.
    outboxes[0].close();
    drive(&mut subs);
    assert_eq!(router.state().blocks.subscribers(), 90);
    assert_eq!(router.state().blocks.send(&Counted(&SERIALIZED)), Ok(90));
    // An item serialized elsewhere (another instance's) goes out as it is.
    let raw = serde_json::value::RawValue::from_string(r#"{"from":"elsewhere"}"#.into()).unwrap();
    assert_eq!(router.state().blocks.send_raw(&raw), 90);
    assert_eq!(
        SERIALIZED.load(Ordering::Relaxed),
        2,
        "a raw item is not serialized"
    );
    for outbox in &outboxes[1..] {
        let notes = take(outbox);
        assert_eq!(notes.len(), 20);
        assert_eq!(notes[19]["params"]["result"]["from"], "elsewhere");
    }
}

#[test]
fn a_broadcast_subscriber_that_cannot_keep_up_lags_its_connection_only() {
    let mut router = Router::with_state(Chain {
        blocks: Broadcast::new(),
    });
    static SERIALIZED: AtomicUsize = AtomicUsize::new(0);
    router.register(blocks::method()).unwrap();
    let slow = Outbox::new(OutboxLimits::default().max_queued(2, 1 << 20));
    let fast = Outbox::default();
    let (cx_slow, cx_fast) = (
        Context::new().with_outbox(&slow),
        Context::new().with_outbox(&fast),
    );
    let mut subs = Vec::new();
    let body = r#"{"jsonrpc":"2.0","method":"subscribe_blocks","id":1}"#;
    call(&router, &cx_slow, body, &mut subs);
    call(&router, &cx_fast, body, &mut subs);
    drive(&mut subs);
    // A broadcast may fill a queue to twice its bound; past it, that connection lags.
    for _ in 0..4 {
        assert_eq!(router.state().blocks.send(&Counted(&SERIALIZED)), Ok(2));
    }
    assert_eq!(router.state().blocks.send(&Counted(&SERIALIZED)), Ok(1));
    let mut notes = Vec::new();
    let mut task = TaskContext::from_waker(Waker::noop());
    assert_eq!(
        slow.poll_take(&mut task, &mut notes),
        Poll::Ready(Taken::Lagged)
    );
    assert_eq!(take(&fast).len(), 5);
    assert_eq!(router.state().blocks.subscribers(), 1);
}

#[test]
fn only_its_own_unsubscribe_method_ends_a_subscription() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    let answer = call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"watch","id":1}"#,
        &mut subs,
    )
    .unwrap();
    let id = answer["result"].as_str().unwrap().to_owned();
    let wrong =
        format!(r#"{{"jsonrpc":"2.0","method":"unsubscribe_countdown","params":["{id}"],"id":2}}"#);
    assert_eq!(
        call(&router, &cx, &wrong, &mut subs).unwrap()["result"],
        false
    );
    assert_eq!(outbox.subscriptions(), 1, "still alive");
    let right = format!(r#"{{"jsonrpc":"2.0","method":"unwatch","params":["{id}"],"id":3}}"#);
    assert_eq!(
        call(&router, &cx, &right, &mut subs).unwrap()["result"],
        true
    );
}

#[test]
fn unsubscribing_one_that_ended_by_itself_still_drops_what_it_left_queued() {
    let router = router();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    let answer = call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[5],"id":1}"#,
        &mut subs,
    )
    .unwrap();
    let id = answer["result"].as_str().unwrap().to_owned();
    drive(&mut subs);
    assert!(subs.is_empty(), "ended by itself");
    assert_eq!(outbox.queued(), 6, "its items wait to be written");
    let body =
        format!(r#"{{"jsonrpc":"2.0","method":"unsubscribe_countdown","params":["{id}"],"id":2}}"#);
    assert_eq!(
        call(&router, &cx, &body, &mut subs).unwrap()["result"],
        false
    );
    assert!(take(&outbox).is_empty(), "nothing of it after the answer");
}

#[test]
fn a_hand_built_subscription_cannot_send_before_its_id_is_answered() {
    let mut router = Router::new();
    router
        .register(Method::new_subscription(
            "early",
            "note",
            "late",
            |_: &(), _: &Context<'_>, _, raw| {
                let early = raw.try_send_json(bytes::Bytes::from_static(b"1"));
                assert!(early.unwrap_err().is_not_started());
                Ok(Box::pin(async move {
                    let _ = raw.send_json(bytes::Bytes::from_static(b"2")).await;
                }))
            },
        ))
        .unwrap();
    let outbox = Outbox::default();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"early","id":1}"#,
        &mut subs,
    );
    assert!(take(&outbox).is_empty());
    drive(&mut subs);
    let notes = take(&outbox);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["params"]["result"], 2);
}

#[test]
fn a_broadcast_burst_beside_a_full_queue_does_not_lag_a_connection_that_reads() {
    let mut router = Router::with_state(Chain {
        blocks: Broadcast::new(),
    });
    static SERIALIZED: AtomicUsize = AtomicUsize::new(0);
    router.register(blocks::method()).unwrap();
    router.register(countdown::method()).unwrap();
    let outbox = Outbox::new(OutboxLimits::default().max_queued(8, 1 << 20));
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_blocks","id":1}"#,
        &mut subs,
    );
    call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[1000],"id":2}"#,
        &mut subs,
    );
    drive(&mut subs);
    assert_eq!(outbox.queued(), 8, "the countdown filled the queue");
    // Broadcasts may take it to twice its bound before the connection counts as lagging.
    for _ in 0..8 {
        assert_eq!(router.state().blocks.send(&Counted(&SERIALIZED)), Ok(1));
    }
    let mut notes = Vec::new();
    let mut task = TaskContext::from_waker(Waker::noop());
    assert_eq!(
        outbox.poll_take(&mut task, &mut notes),
        Poll::Ready(Taken::Notes)
    );
    assert_eq!(notes.len(), 16);
    // Past twice the bound, it does.
    drive(&mut subs);
    for _ in 0..8 {
        router.state().blocks.send(&Counted(&SERIALIZED)).unwrap();
    }
    assert_eq!(router.state().blocks.send(&Counted(&SERIALIZED)), Ok(0));
    assert_eq!(
        outbox.poll_take(&mut task, &mut notes),
        Poll::Ready(Taken::Lagged)
    );
}

#[test]
fn the_queue_is_bounded_in_bytes_too() {
    let outbox = Outbox::new(OutboxLimits::default().max_queued(1_000, 1_100));
    let kept = std::sync::Arc::new(std::sync::Mutex::new(None));
    let keep = std::sync::Arc::clone(&kept);
    let mut router = Router::new();
    router
        .register(Method::new_subscription(
            "sub",
            "note",
            "unsub",
            move |_: &(), _: &Context<'_>, _, raw| {
                *keep.lock().unwrap() = Some(Sink::<String>::from_raw(raw.clone()));
                Ok(Box::pin(async move { raw.closed().await }))
            },
        ))
        .unwrap();
    let cx = Context::new().with_outbox(&outbox);
    let mut subs = Vec::new();
    call(
        &router,
        &cx,
        r#"{"jsonrpc":"2.0","method":"sub","id":1}"#,
        &mut subs,
    );
    drive(&mut subs);
    let sink = kept.lock().unwrap().take().unwrap();
    // Each notification is 207 bytes: five fit in 1,100, the sixth waits.
    let item = "x".repeat(100);
    for _ in 0..5 {
        sink.try_send(item.clone()).unwrap();
    }
    assert!(sink.try_send(item.clone()).unwrap_err().is_full());
    assert_eq!(outbox.queued(), 5);
    assert_eq!(take(&outbox).len(), 5);
    // One larger than the whole bound still goes, alone, into an empty queue.
    sink.try_send("y".repeat(2_000)).unwrap();
    assert!(sink.try_send(item).unwrap_err().is_full());
}
