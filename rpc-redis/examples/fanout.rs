//! Fan-out to many WebSocket subscribers, within one instance (`local`: a `Broadcast`) or
//! across two instances through Redis (`redis`: a `RedisFeed` on each, half the subscribers
//! on each, the items published on the first). Prints notifications delivered per second and
//! this process's CPU per delivered notification; `scripts/bench-scale.sh` runs both and
//! prints their ratios.
//!
//! Usage: fanout local|redis REDIS_URL SUBSCRIBERS ITEMS
//!
//! Servers and clients share this process (its CPU counts both, alike in either mode;
//! redis-server's own is not counted). The producer keeps at most 8 items ahead of the
//! slowest subscriber, so no subscriber falls behind and is cut off.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rpc_core::{rpc_subscription, Broadcast, Router, Sink, State};
use rpc_redis::RedisFeed;
use tokio_tungstenite::tungstenite::Message;

/// Where items go.
enum Feed {
    Local(Broadcast<u64>),
    Redis(RedisFeed<u64>),
}

/// Every item.
#[rpc_subscription]
async fn items(feed: State<'_, Feed>, sink: Sink<u64>) {
    match &*feed {
        Feed::Local(broadcast) => broadcast.attach(sink).await,
        Feed::Redis(feed) => feed.attach(sink).await,
    }
}

async fn serve(router: Router<Feed>) -> (SocketAddr, Arc<Router<Feed>>) {
    let router = Arc::new(router);
    let listener = rpc_hyper::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let service = rpc_hyper::RpcService::new(Arc::clone(&router));
    tokio::spawn(rpc_hyper::serve(listener, service).into_future());
    (addr, router)
}

/// `subscriptions` subscriptions over connections of 50, counting what they are sent.
async fn subscribe(addr: SocketAddr, subscriptions: usize, delivered: Arc<AtomicU64>) {
    let mut left = subscriptions;
    while left > 0 {
        let here = left.min(50);
        left -= here;
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
            .await
            .expect("a WebSocket");
        for _ in 0..here {
            let call = r#"{"jsonrpc":"2.0","method":"subscribe_items","id":1}"#;
            ws.send(Message::text(call)).await.unwrap();
            let answer = ws.next().await.unwrap().unwrap();
            assert!(answer.to_text().unwrap().contains(r#""result":"0x"#));
        }
        let delivered = Arc::clone(&delivered);
        tokio::spawn(async move {
            while let Some(Ok(message)) = ws.next().await {
                if let Message::Text(text) = message {
                    // A notification, parsed as a client would.
                    let note: serde_json::Value = serde_json::from_str(&text).unwrap();
                    if note["method"] == "items" {
                        delivered.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
}

/// This process's user and system CPU time so far.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, url, subscribers, items_to_send] = &args[..] else {
        eprintln!("usage: fanout local|redis REDIS_URL SUBSCRIBERS ITEMS");
        std::process::exit(2);
    };
    let subscribers: usize = subscribers.parse().unwrap();
    let item_count: u64 = items_to_send.parse().unwrap();
    let feed = |url: &str| match mode.as_str() {
        "local" => Feed::Local(Broadcast::new()),
        _ => Feed::Redis(RedisFeed::new(url, "fanout").unwrap()),
    };
    let router = |feed| {
        let mut router = Router::with_state(feed);
        router.register(items::method()).unwrap();
        router
    };
    let delivered = Arc::new(AtomicU64::new(0));
    let (first, publisher) = serve(router(feed(url))).await;
    if mode == "local" {
        subscribe(first, subscribers, Arc::clone(&delivered)).await;
    } else {
        let (second, _second) = serve(router(feed(url))).await;
        subscribe(first, subscribers / 2, Arc::clone(&delivered)).await;
        subscribe(
            second,
            subscribers - subscribers / 2,
            Arc::clone(&delivered),
        )
        .await;
        // Until both instances listen: probes, not counted.
        let Feed::Redis(feed) = publisher.state() else {
            unreachable!()
        };
        while feed.publish(&u64::MAX).await.ok() != Some(2) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        std::mem::forget(_second);
    }
    let subscribers = subscribers as u64;
    let base = delivered.load(Ordering::Relaxed);
    let (started, cpu_before) = (Instant::now(), cpu());
    for n in 0..item_count {
        // At most 8 items ahead of what every subscriber has.
        while delivered.load(Ordering::Relaxed) - base + 8 * subscribers < n * subscribers {
            tokio::task::yield_now().await;
        }
        match publisher.state() {
            Feed::Local(broadcast) => {
                broadcast.send(&n).unwrap();
            }
            Feed::Redis(feed) => {
                while feed.send(&n).is_err() {
                    tokio::task::yield_now().await;
                }
            }
        }
    }
    let all = item_count * subscribers;
    while delivered.load(Ordering::Relaxed) - base < all {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "deliveries stalled"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let (elapsed, cpu_used) = (started.elapsed(), cpu() - cpu_before);
    println!(
        "{mode} {:.0} notifications/s {:.3} us CPU/notification",
        all as f64 / elapsed.as_secs_f64(),
        cpu_used.as_secs_f64() * 1e6 / all as f64
    );
    std::process::exit(0);
}
