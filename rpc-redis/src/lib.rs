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
//! - Memory stays bounded while Redis is slow: at most
//!   [`FeedOptions::max_publishing`] publishes wait for Redis at once (past it,
//!   [`PublishError::Busy`]), each for [`FeedOptions::publish_timeout`] at most.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;
use rpc_core::{Broadcast, Sink};
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::{Mutex, Semaphore};
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
}

impl Default for FeedOptions {
    fn default() -> Self {
        Self {
            publish_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            max_publishing: 256,
        }
    }
}

impl FeedOptions {
    /// How long a publish waits for Redis's answer (1 s by default); past it, it fails with
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

    /// How many publishes may wait for Redis at once (256 by default); past it, a publish
    /// fails at once with [`PublishError::Busy`].
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
    /// As many publishes as allowed are waiting for Redis already.
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
}

struct Shared<T: ?Sized> {
    client: redis::Client,
    channel: String,
    options: FeedOptions,
    local: Broadcast<T>,
    publisher: Mutex<Publisher>,
    publishing: Semaphore,
    /// The listener's link to Redis: [`STARTING`], [`UP`] or [`DOWN`].
    listening: AtomicU8,
    /// Whether a message that is not JSON has been logged.
    warned_junk: AtomicBool,
    item: PhantomData<fn(&T)>,
}

const STARTING: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// The connection publishes go on, and when to try again without one.
struct Publisher {
    connection: Option<MultiplexedConnection>,
    retry_at: Option<Instant>,
    backoff: Duration,
    /// Whether the loss of the connection has been logged.
    lost: bool,
}

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
        let shared = Arc::new(Shared {
            client,
            channel: channel.into(),
            publishing: Semaphore::new(options.max_publishing),
            options,
            local: Broadcast::default(),
            publisher: Mutex::new(Publisher {
                connection: None,
                retry_at: None,
                backoff: FIRST_BACKOFF,
                lost: false,
            }),
            listening: AtomicU8::new(STARTING),
            warned_junk: AtomicBool::new(false),
            item: PhantomData,
        });
        let listener = tokio::spawn(listen(Arc::clone(&shared)));
        Ok(Self { shared, listener })
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
    /// instances Redis handed it to (this one included). Fails at once while Redis is
    /// unreachable: see [`PublishError`].
    pub async fn publish(&self, item: &T) -> Result<usize, PublishError> {
        let json = serde_json::to_vec(item).map_err(PublishError::Serialize)?;
        let _waiting = self
            .shared
            .publishing
            .try_acquire()
            .map_err(|_| PublishError::Busy)?;
        let mut connection = self.shared.publisher_connection().await?;
        let published = connection.publish::<_, _, usize>(&self.shared.channel, json);
        match tokio::time::timeout(self.shared.options.publish_timeout, published).await {
            Ok(Ok(instances)) => Ok(instances),
            Ok(Err(err)) => {
                self.shared.publisher_lost(&err.to_string()).await;
                Err(PublishError::Unavailable(err.to_string()))
            }
            Err(_) => Err(PublishError::TimedOut),
        }
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
    /// The publishing connection, made if there is none and the backoff allows.
    async fn publisher_connection(&self) -> Result<MultiplexedConnection, PublishError> {
        let mut publisher = self.publisher.lock().await;
        if let Some(connection) = &publisher.connection {
            return Ok(connection.clone());
        }
        if publisher.retry_at.is_some_and(|at| Instant::now() < at) {
            return Err(PublishError::Unavailable("reconnecting".into()));
        }
        let connecting = self.client.get_multiplexed_async_connection();
        let outcome = match tokio::time::timeout(self.options.connect_timeout, connecting).await {
            Ok(Ok(connection)) => Ok(connection),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err("connecting timed out".to_owned()),
        };
        match outcome {
            Ok(connection) => {
                if publisher.lost {
                    tracing::info!(channel = %self.channel, "publishing to Redis again");
                }
                *publisher = Publisher {
                    connection: Some(connection.clone()),
                    retry_at: None,
                    backoff: FIRST_BACKOFF,
                    lost: false,
                };
                Ok(connection)
            }
            Err(why) => {
                if !publisher.lost {
                    tracing::warn!(channel = %self.channel, error = %why, "cannot publish to Redis; items are lost until it is back");
                }
                publisher.lost = true;
                publisher.retry_at = Some(Instant::now() + publisher.backoff);
                publisher.backoff = (publisher.backoff * 2).min(LAST_BACKOFF);
                Err(PublishError::Unavailable(why))
            }
        }
    }

    /// The publishing connection failed: the next publish connects again.
    async fn publisher_lost(&self, why: &str) {
        let mut publisher = self.publisher.lock().await;
        publisher.connection = None;
        if !publisher.lost {
            tracing::warn!(channel = %self.channel, error = %why, "lost Redis for publishing; items are lost until it is back");
        }
        publisher.lost = true;
    }

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

/// Listens on the channel for as long as the feed lives, connecting again whenever the link
/// to Redis goes.
async fn listen<T: ?Sized + Serialize>(shared: Arc<Shared<T>>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let connecting = async {
            let mut pubsub = shared.client.get_async_pubsub().await?;
            pubsub.subscribe(&shared.channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let why = match tokio::time::timeout(shared.options.connect_timeout, connecting).await {
            Ok(Ok(pubsub)) => {
                shared.listening(true, "");
                backoff = FIRST_BACKOFF;
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    shared.deliver(message.get_payload_bytes());
                }
                "the connection closed".to_owned()
            }
            Ok(Err(err)) => err.to_string(),
            Err(_) => "connecting timed out".to_owned(),
        };
        shared.listening(false, &why);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(LAST_BACKOFF);
    }
}
