//! Subscriptions fed across instances through Redis: a [`RedisFeed`] is rpc-core's
//! [`Broadcast`] with Redis pub/sub between the instances of a service.
//!
//! Several instances of a service sit behind a load balancer; a client subscribed on one
//! must see what happens on any. Each instance makes a `RedisFeed` on the same channel, its
//! subscription methods attach their sinks to it as to a `Broadcast`, and whatever instance
//! publishes an item, every instance's subscribers get it:
//!
//! ```no_run
//! use rpc_core::{rpc_subscription, Router, Sink, State};
//! use rpc_redis::RedisFeed;
//!
//! struct Chain {
//!     blocks: RedisFeed<u64>,
//! }
//!
//! /// Every new block's number, from every instance.
//! #[rpc_subscription(notification = "newBlock")]
//! async fn blocks(chain: State<'_, Chain>, sink: Sink<u64>) {
//!     chain.blocks.attach(sink).await;
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let blocks = RedisFeed::new("redis://127.0.0.1:6379/", "blocks")?;
//! let mut router = Router::with_state(Chain { blocks });
//! router.register(blocks::method())?;
//! // Elsewhere, on any instance:
//! router.state().blocks.publish(&7).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # What is guaranteed, and what is not
//!
//! - An item is serialized once by the instance that publishes it, read once by each
//!   instance, and fanned out to that instance's subscribers as `Broadcast` does (a
//!   subscriber that cannot keep up has its connection closed; the others go on).
//! - Every instance's subscribers get items through Redis, the publisher's own included, so
//!   they all see the items of one publisher in the order it published them.
//! - Redis pub/sub delivers at most once. While Redis is unreachable, [`RedisFeed::publish`]
//!   fails at once with [`PublishError::Unavailable`] and the item is lost; items published
//!   while an instance is cut off from Redis never reach that instance's subscribers.
//!   Subscribers are not dropped in an outage: they get items again once it is over.
//! - Calls never wait on Redis: the feed connects, and reconnects, on a task of its own, with
//!   a backoff from 50 ms doubling to 5 s, and logs once when it loses Redis and once when it
//!   has it back, not once per item.
//! - Memory stays bounded while Redis is slow: items are published one at a time, in order,
//!   and at most [`FeedOptions::max_publishing`] wait their turn (past it,
//!   [`PublishError::Busy`]); a caller of [`RedisFeed::publish`] waits
//!   [`FeedOptions::publish_timeout`] at most.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The Redis client this crate is built on: its errors are this crate's.
pub use redis;

use rpc_core::{Broadcast, Sink};
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The first wait before connecting again after Redis was lost.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// The longest wait between attempts to connect.
const LAST_BACKOFF: Duration = Duration::from_secs(5);

/// How a feed talks to Redis.
#[derive(Clone, Debug)]
pub struct FeedOptions {
    publish_timeout: Duration,
    connect_timeout: Duration,
    max_publishing: usize,
    ping_interval: Duration,
}

impl Default for FeedOptions {
    fn default() -> Self {
        Self {
            publish_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            max_publishing: 256,
            ping_interval: Duration::from_secs(10),
        }
    }
}

impl FeedOptions {
    /// How long [`RedisFeed::publish`] waits for its item to be published (1 s by default),
    /// and how long the feed waits for Redis's answer to one; past it, it fails with
    /// [`PublishError::TimedOut`] (the item may still reach the subscribers).
    #[must_use]
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// How long an attempt to connect to Redis may take (1 s by default).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How often the listener pings Redis to make sure its link is still there (10 s by
    /// default): one that is not answered within the connect timeout is taken for lost (a
    /// network cut leaves a link half-open, never closed), and the listener connects again.
    #[must_use]
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How many items may wait their turn to be published (256 by default); past it, a
    /// publish fails at once with [`PublishError::Busy`].
    #[must_use]
    pub fn max_publishing(mut self, publishes: usize) -> Self {
        self.max_publishing = publishes;
        self
    }
}

/// Why an item was not published.
#[derive(Debug)]
#[non_exhaustive]
pub enum PublishError {
    /// The item does not serialize.
    Serialize(serde_json::Error),
    /// Redis is unreachable (the reason is Redis's, or the last attempt to connect's); the
    /// item is lost.
    Unavailable(String),
    /// Redis took longer than the publish timeout to answer.
    TimedOut,
    /// As many items as allowed wait their turn to be published already.
    Busy,
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::Serialize(err) => write!(f, "the item does not serialize: {err}"),
            PublishError::Unavailable(why) => write!(f, "Redis is unavailable: {why}"),
            PublishError::TimedOut => f.write_str("Redis did not answer the publish in time"),
            PublishError::Busy => f.write_str("too many publishes are waiting for Redis"),
        }
    }
}

impl std::error::Error for PublishError {}

/// A [`Broadcast`] fed through a Redis channel: every instance's subscribers get what any
/// instance publishes. See the [crate docs](crate).
///
/// Made inside a tokio runtime: it listens on a task of its own, which ends when the feed is
/// dropped.
pub struct RedisFeed<T: ?Sized> {
    shared: Arc<Shared<T>>,
    listener: JoinHandle<()>,
    publisher: JoinHandle<()>,
}

struct Shared<T: ?Sized> {
    client: redis::Client,
    channel: String,
    options: FeedOptions,
    local: Broadcast<T>,
    /// What the publisher task is to publish, in order.
    queue: mpsc::Sender<Job>,
    /// The listener's link to Redis: [`STARTING`], [`UP`] or [`DOWN`].
    listening: AtomicU8,
    /// Whether a message that is not JSON has been logged.
    warned_junk: AtomicBool,
    item: PhantomData<fn(&T)>,
}

const STARTING: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

impl<T: ?Sized + Serialize + 'static> RedisFeed<T> {
    /// A feed on Redis `channel` at `url` (`redis://host:port/db`), with the default
    /// options. Fails only for a malformed URL: Redis need not be up yet.
    pub fn new(url: &str, channel: impl Into<String>) -> Result<Self, redis::RedisError> {
        Self::with_options(url, channel, FeedOptions::default())
    }

    /// [`RedisFeed::new`] with `options`.
    pub fn with_options(
        url: &str,
        channel: impl Into<String>,
        options: FeedOptions,
    ) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let (queue, jobs) = mpsc::channel(options.max_publishing.max(1));
        let shared = Arc::new(Shared {
            client,
            channel: channel.into(),
            options,
            local: Broadcast::default(),
            queue,
            listening: AtomicU8::new(STARTING),
            warned_junk: AtomicBool::new(false),
            item: PhantomData,
        });
        let listener = tokio::spawn(listen(Arc::clone(&shared)));
        let publisher = tokio::spawn(publish_all(Arc::clone(&shared), jobs));
        Ok(Self {
            shared,
            listener,
            publisher,
        })
    }

    /// Attaches a subscriber, and waits until its subscription ends; as
    /// [`Broadcast::attach`].
    pub async fn attach(&self, sink: Sink<T>)
    where
        T: Sized,
    {
        self.shared.local.attach(sink).await;
    }

    /// Publishes `item` to every instance's subscribers, serialized once; returns how many
    /// instances Redis handed it to (this one included). Items are published one at a time,
    /// in the order they are given. Fails at once while Redis is unreachable, or when
    /// [`FeedOptions::max_publishing`] items wait already: see [`PublishError`].
    pub async fn publish(&self, item: &T) -> Result<usize, PublishError> {
        let (done, outcome) = oneshot::channel();
        self.enqueue(item, Some(done))?;
        match tokio::time::timeout(self.shared.options.publish_timeout, outcome).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(PublishError::Unavailable("the feed is closing".into())),
            Err(_) => Err(PublishError::TimedOut),
        }
    }

    /// Publishes `item` without waiting: for a sync method, or a producer that does not care
    /// how it went. It is serialized now and published in its turn, after the items given
    /// before it; fails only when it does not serialize or
    /// [`FeedOptions::max_publishing`] items wait already. An item that then cannot be
    /// published (Redis is unreachable) is lost, as with [`RedisFeed::publish`], and the
    /// outage is logged once.
    pub fn send(&self, item: &T) -> Result<(), PublishError> {
        self.enqueue(item, None)
    }

    fn enqueue(
        &self,
        item: &T,
        done: Option<oneshot::Sender<Result<usize, PublishError>>>,
    ) -> Result<(), PublishError> {
        let json = serde_json::to_vec(item).map_err(PublishError::Serialize)?;
        self.shared
            .queue
            .try_send(Job { json, done })
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => PublishError::Busy,
                mpsc::error::TrySendError::Closed(_) => {
                    PublishError::Unavailable("the feed is closing".into())
                }
            })
    }

    /// How many subscribers this instance has attached.
    pub fn subscribers(&self) -> usize {
        self.shared.local.subscribers()
    }

    /// Whether this instance is listening on Redis now: `false` while it is starting or cut
    /// off (its subscribers then get nothing).
    pub fn is_listening(&self) -> bool {
        self.shared.listening.load(Ordering::Relaxed) == UP
    }
}

impl<T: ?Sized> Drop for RedisFeed<T> {
    fn drop(&mut self) {
        self.listener.abort();
        self.publisher.abort();
    }
}

impl<T: ?Sized> fmt::Debug for RedisFeed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisFeed")
            .field("channel", &self.shared.channel)
            .field(
                "listening",
                &(self.shared.listening.load(Ordering::Relaxed) == UP),
            )
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> Shared<T> {
    /// The listener's link to Redis changed.
    fn listening(&self, up: bool, why: &str) {
        let was = self
            .listening
            .swap(if up { UP } else { DOWN }, Ordering::Relaxed);
        match (was, up) {
            (DOWN, true) => tracing::info!(channel = %self.channel, "listening on Redis again"),
            (STARTING, true) => tracing::debug!(channel = %self.channel, "listening on Redis"),
            (STARTING | UP, false) => tracing::warn!(
                channel = %self.channel,
                error = %why,
                "not listening on Redis; subscribers get nothing until it is back"
            ),
            _ => {}
        }
    }
}

impl<T: ?Sized + Serialize> Shared<T> {
    /// Fans one message out to this instance's subscribers, if it is JSON.
    fn deliver(&self, payload: &[u8]) {
        match serde_json::from_slice::<&RawValue>(payload) {
            Ok(item) => {
                self.local.send_raw(item);
            }
            Err(err) => {
                if !self.warned_junk.swap(true, Ordering::Relaxed) {
                    tracing::warn!(channel = %self.channel, error = %err, "a message on the channel is not JSON; it is dropped (logged once)");
                }
            }
        }
    }
}

mod listen;
mod publish;

use listen::listen;
use publish::{publish_all, Job};
