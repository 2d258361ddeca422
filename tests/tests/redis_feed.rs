//! rpc-redis's feed against a real Redis (`redis-server`, started on a free loopback port
//! and stopped by its process): across instances, through a restart, absent at start, at a
//! thousand subscribers, and while Redis does not answer.

use std::collections::VecDeque;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rpc_core::{rpc_method, rpc_subscription, Router, Sink, State};
use rpc_redis::{FeedOptions, PublishError, RedisFeed};
use rpc_tests::Redis;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

const STEP: Duration = rpc_tests::STEP;

struct Feed {
    numbers: RedisFeed<u64>,
}

/// Every number any instance publishes.
#[rpc_subscription]
async fn numbers(feed: State<'_, Feed>, sink: Sink<u64>) {
    feed.numbers.attach(sink).await;
}

/// Publishes `n` to every instance; how many instances got it, or the error.
#[rpc_method]
async fn publish(feed: State<'_, Feed>, n: u64) -> String {
    match feed.numbers.publish(&n).await {
        Ok(instances) => instances.to_string(),
        Err(err) => format!("error: {err}"),
    }
}

/// Publishes `n` without waiting, from a sync method.
#[rpc_method]
fn tell(feed: State<'_, Feed>, n: u64) -> bool {
    feed.numbers.send(&n).is_ok()
}

/// A plain call, which must never wait on Redis.
#[rpc_method]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

/// One instance of the service, on its own port, fed through `url`; with its feed's router.
async fn instance(url: &str) -> SocketAddr {
    let numbers = RedisFeed::with_options(
        url,
        "numbers",
        FeedOptions::default().publish_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let mut router = Router::with_state(Feed { numbers });
    router.register(numbers::method()).unwrap();
    router.register(publish::method()).unwrap();
    router.register(add::method()).unwrap();
    router.register(tell::method()).unwrap();
    let listener = rpc_hyper::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(rpc_hyper::serve(listener, router).into_future());
    addr
}

/// A WebSocket client, keeping the notifications that come while it waits for an answer.
struct Ws {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    notes: VecDeque<Value>,
}

async fn connect(addr: SocketAddr) -> Ws {
    let connecting = tokio_tungstenite::connect_async(format!("ws://{addr}/"));
    let socket = tokio::time::timeout(STEP, connecting)
        .await
        .unwrap()
        .unwrap()
        .0;
    Ws {
        socket,
        notes: VecDeque::new(),
    }
}

/// The next message `ws` is sent.
async fn receive(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(STEP, ws.socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// The next notification `ws` is sent.
async fn next(ws: &mut Ws) -> Value {
    match ws.notes.pop_front() {
        Some(note) => note,
        None => receive(ws).await,
    }
}

/// Calls `method`; its result.
async fn request(ws: &mut Ws, method: &str, params: Value) -> Value {
    let call = serde_json::json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
    ws.socket
        .send(Message::text(call.to_string()))
        .await
        .unwrap();
    loop {
        let message = receive(ws).await;
        if message.get("id").is_some() {
            return message["result"].clone();
        }
        ws.notes.push_back(message);
    }
}

/// Subscribes `ws` `count` times; waits until the feed listens on Redis.
async fn subscribe(ws: &mut Ws, count: usize) {
    for _ in 0..count {
        let id = request(ws, "subscribe_numbers", serde_json::json!([])).await;
        assert!(id.is_string(), "{id}");
    }
}

/// Numbers from here on are probes: published until Redis hands one to every instance (the
/// feeds may still be connecting), and passed over by [`items`].
const PROBE: u64 = 1_000_000;

/// Publishes probes through `ws` until Redis hands one to `instances` instances.
async fn ready(ws: &mut Ws, instances: usize) {
    let started = Instant::now();
    for probe in PROBE.. {
        let answer = request(ws, "publish", serde_json::json!([probe])).await;
        if answer.as_str() == Some(&instances.to_string()) {
            return;
        }
        assert!(
            started.elapsed() < STEP,
            "never published to {instances} instances: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The next `count` numbers `ws` is sent, probes passed over.
async fn items(ws: &mut Ws, count: usize) -> Vec<u64> {
    let mut items = Vec::new();
    while items.len() < count {
        let note = next(ws).await;
        assert_eq!(note["method"], "numbers", "{note}");
        let item = note["params"]["result"].as_u64().unwrap();
        if item < PROBE {
            items.push(item);
        }
    }
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_instance_publishes_reaches_the_subscribers_of_both() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (instance(&redis.url()).await, instance(&redis.url()).await);
    let (mut on_a, mut on_b) = (connect(a).await, connect(b).await);
    subscribe(&mut on_b, 1).await;
    subscribe(&mut on_a, 1).await;
    ready(&mut on_a, 2).await;
    for n in 7..12 {
        assert_eq!(
            request(&mut on_a, "publish", serde_json::json!([n])).await,
            "2"
        );
    }
    // From a sync method, not waiting: after what came before, in order.
    for n in 12..15 {
        assert_eq!(
            request(&mut on_b, "tell", serde_json::json!([n])).await,
            true
        );
    }
    // Each instance's subscriber sees every item, in the order it was published.
    for ws in [&mut on_a, &mut on_b] {
        let seen = items(ws, 8).await;
        assert_eq!(seen, [7, 8, 9, 10, 11, 12, 13, 14]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_loses_what_is_published_meanwhile_and_nothing_else() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (instance(&redis.url()).await, instance(&redis.url()).await);
    let (mut on_a, mut on_b) = (connect(a).await, connect(b).await);
    subscribe(&mut on_b, 1).await;
    ready(&mut on_a, 2).await;
    assert_eq!(
        request(&mut on_a, "publish", serde_json::json!([1])).await,
        "2"
    );
    assert_eq!(items(&mut on_b, 1).await, [1]);

    let redis = {
        let mut redis = redis;
        redis.stop();
        // Redis gone: publishing says so at once, and calls go on as ever.
        let started = Instant::now();
        let answer = request(&mut on_a, "publish", serde_json::json!([2])).await;
        assert!(answer.as_str().unwrap().starts_with("error: "), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(
            request(&mut on_a, "add", serde_json::json!([2, 3])).await,
            5
        );
        assert_eq!(
            request(&mut on_b, "add", serde_json::json!([2, 3])).await,
            5
        );
        Redis::on(redis.port).expect("redis-server ran a moment ago")
    };
    // Back: the feed has reconnected by itself; the subscriber, never dropped, gets what is
    // published from now on.
    ready(&mut on_a, 2).await;
    assert_eq!(
        request(&mut on_a, "publish", serde_json::json!([3])).await,
        "2"
    );
    assert_eq!(items(&mut on_b, 1).await, [3]);
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_starts_without_redis_and_its_feed_connects_when_redis_comes() {
    let Some(probe) = Redis::start() else { return };
    let port = probe.port;
    drop(probe);
    let url = format!("redis://127.0.0.1:{port}/");
    let a = instance(&url).await;
    let mut on_a = connect(a).await;
    // Serving, without Redis.
    assert_eq!(
        request(&mut on_a, "add", serde_json::json!([1, 1])).await,
        2
    );
    subscribe(&mut on_a, 1).await;
    let answer = request(&mut on_a, "publish", serde_json::json!([1])).await;
    assert!(answer.as_str().unwrap().starts_with("error:"), "{answer}");
    let redis = Redis::on(port).unwrap();
    ready(&mut on_a, 1).await;
    assert_eq!(
        request(&mut on_a, "publish", serde_json::json!([2])).await,
        "1"
    );
    assert_eq!(items(&mut on_a, 1).await, [2]);
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_subscribers_across_two_instances_each_get_every_item() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (instance(&redis.url()).await, instance(&redis.url()).await);
    // 20 connections, 50 subscriptions each, half on each instance.
    let mut clients = Vec::new();
    for n in 0..20 {
        let mut ws = connect(if n % 2 == 0 { a } else { b }).await;
        subscribe(&mut ws, 50).await;
        clients.push(ws);
    }
    let mut publisher = connect(a).await;
    ready(&mut publisher, 2).await;
    for n in 0..10 {
        assert_eq!(
            request(&mut publisher, "publish", serde_json::json!([n])).await,
            "2"
        );
    }
    let mut delivered = 0;
    for ws in &mut clients {
        let seen = items(ws, 500).await;
        // 50 subscriptions, each with the 10 items in order.
        for n in 0..10 {
            assert_eq!(
                seen.iter().filter(|&&item| item == n).count(),
                50,
                "item {n}"
            );
        }
        delivered += seen.len();
    }
    assert_eq!(delivered, 1000 * 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_does_not_answer_publishes_time_out_and_wait_in_bounded_numbers() {
    let Some(redis) = Redis::start() else { return };
    let feed = RedisFeed::<u64>::with_options(
        &redis.url(),
        "slow",
        FeedOptions::default()
            .publish_timeout(Duration::from_millis(200))
            .max_publishing(4),
    )
    .unwrap();
    let started = Instant::now();
    while feed.publish(&0).await.is_err() {
        assert!(started.elapsed() < STEP, "never connected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Redis stops answering for a while (it is paused, not gone).
    let mut pause = Command::new("kill")
        .args(["-STOP", &redis.pid().to_string()])
        .spawn()
        .unwrap();
    pause.wait().unwrap();
    let items: Vec<u64> = (0..50).collect();
    let publishes = items.iter().map(|n| feed.publish(n));
    let asked = Instant::now();
    let outcomes = futures_util::future::join_all(publishes).await;
    // Every caller has its answer within its timeout (and a little scheduling).
    assert!(
        asked.elapsed() < Duration::from_millis(200 + 300),
        "{:?}",
        asked.elapsed()
    );
    let (mut busy, mut waited) = (0, 0);
    for outcome in &outcomes {
        match outcome {
            Err(PublishError::Busy) => busy += 1,
            // Waited its turn and timed out, or came after one that did: the feed then drops
            // the link it no longer trusts and turns items away until it has a new one.
            Err(PublishError::TimedOut | PublishError::Unavailable(_)) => waited += 1,
            other => panic!("a publish to a paused Redis gave {other:?}"),
        }
    }
    // Four waited their turn (and one, perhaps, was being published); the rest were turned
    // away at once.
    assert!((4..=5).contains(&waited), "{waited} waited");
    assert_eq!(busy + waited, 50);
    Command::new("kill")
        .args(["-CONT", &redis.pid().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    while feed.publish(&1).await.is_err() {
        assert!(started.elapsed() < STEP, "never recovered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_that_stops_answering_is_found_by_its_ping_and_made_again() {
    let Some(redis) = Redis::start() else { return };
    let options = FeedOptions::default()
        .ping_interval(Duration::from_millis(200))
        .connect_timeout(Duration::from_millis(200));
    let feed = RedisFeed::<u64>::with_options(&redis.url(), "liveness", options).unwrap();
    let until = |listening: bool| {
        let feed = &feed;
        async move {
            let started = Instant::now();
            while feed.is_listening() != listening {
                assert!(started.elapsed() < STEP, "never {listening}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    until(true).await;
    // A paused Redis keeps the connection open and answers nothing, as a network cut does:
    // only the unanswered ping tells.
    let signal = |which: &str| {
        let status = Command::new("kill")
            .args([which, &redis.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    signal("-STOP");
    until(false).await;
    signal("-CONT");
    until(true).await;
}
