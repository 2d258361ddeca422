//! Fan-out: one producer, many subscribers, each item serialized once.

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use serde_json::value::RawValue;

use super::sink::encode;
use super::{RawSink, SendError, Sink, SubscriptionId};

/// Sends each item to every attached subscriber, serializing it once for all of them: the
/// common case of one producer and many subscribers ("every new block").
///
/// A subscription method attaches its sink and waits ([`Broadcast::attach`]); the producer
/// calls [`Broadcast::send`], which never waits. A broadcast's items may fill a connection's
/// queue to twice its bounds ([`OutboxLimits`](crate::OutboxLimits)), so a burst does not
/// hurt a client that reads; a subscriber whose connection has that much waiting cannot keep
/// up, and rather than miss items without a word, its connection is closed (a WebSocket with
/// close code 1008) while every other subscriber goes on.
///
/// ```
/// use rpc_core::{rpc_subscription, Broadcast, Router, Sink, State};
///
/// struct Chain {
///     blocks: Broadcast<u64>,
/// }
///
/// /// Every new block's number.
/// #[rpc_subscription(notification = "newBlock")]
/// async fn blocks(chain: State<'_, Chain>, sink: Sink<u64>) {
///     chain.blocks.attach(sink).await;
/// }
///
/// let chain = Chain { blocks: Broadcast::new() };
/// assert_eq!(chain.blocks.send(&7), Ok(0)); // no subscriber yet: nothing serialized
/// let mut router = Router::with_state(chain);
/// router.register(blocks::method())?;
/// # Ok::<(), rpc_core::RegisterError>(())
/// ```
pub struct Broadcast<T: ?Sized> {
    sinks: Mutex<Vec<RawSink>>,
    /// `sinks.len()`, read without the lock: a send with no subscriber costs one load.
    count: AtomicUsize,
    item: PhantomData<fn(&T)>,
}

impl<T: ?Sized> Default for Broadcast<T> {
    fn default() -> Self {
        Self {
            sinks: Mutex::default(),
            count: AtomicUsize::new(0),
            item: PhantomData,
        }
    }
}

impl<T: ?Sized + Serialize> Broadcast<T> {
    /// A broadcast with no subscriber.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attaches a subscriber, and waits until its subscription ends (the client unsubscribed
    /// or went away); it is then detached. The subscription method awaits this.
    pub async fn attach(&self, sink: Sink<T>)
    where
        T: Sized,
    {
        let raw = sink.raw().clone();
        self.with_sinks(|sinks| sinks.push(raw.clone()));
        // Detached however the wait ends: the subscription's future is dropped, unpolled,
        // once it has ended from outside.
        let _attached = Attached {
            broadcast: self,
            id: raw.id(),
        };
        raw.closed().await;
    }

    /// Sends `item` to every attached subscriber; returns how many got it. The item is
    /// serialized once, and not at all when no one is attached. Fails only for an item that
    /// does not serialize.
    pub fn send(&self, item: &T) -> Result<usize, SendError> {
        if self.count.load(Ordering::Relaxed) == 0 {
            return Ok(0);
        }
        Ok(self.fan_out(bytes::Bytes::from(encode(item)?)))
    }

    /// Sends an item that is JSON already (serialized elsewhere: by another instance of the
    /// service, say, and carried here by a message broker) to every attached subscriber, as
    /// [`Broadcast::send`] does; returns how many got it. The type makes sure it is one JSON
    /// value; that it is a `T` is the caller's word.
    pub fn send_raw(&self, json: &RawValue) -> usize {
        if self.count.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        self.fan_out(bytes::Bytes::copy_from_slice(json.get().as_bytes()))
    }

    fn fan_out(&self, json: bytes::Bytes) -> usize {
        let mut sent = 0;
        let mut lagged = Vec::new();
        self.with_sinks(|sinks| {
            sinks.retain(|sink| match sink.try_send_json(json.clone()) {
                Ok(()) => {
                    sent += 1;
                    true
                }
                Err(err) if err.is_full() => {
                    lagged.push(sink.clone());
                    false
                }
                // Too large for its connection, or not started yet: this item is skipped.
                Err(err) if err.is_too_large() || err.is_not_started() => true,
                // Ended: detached.
                Err(_) => false,
            });
        });
        // Outside the lock: a log line or a wake-up must not reach back into this broadcast.
        for sink in lagged {
            tracing::warn!(
                subscription = %sink.id(),
                "a subscriber could not keep up with a broadcast; its connection closes"
            );
            sink.outbox().lag();
        }
        sent
    }

    /// How many subscribers are attached.
    pub fn subscribers(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    fn with_sinks<R>(&self, f: impl FnOnce(&mut Vec<RawSink>) -> R) -> R {
        let mut sinks = self.sinks.lock().unwrap_or_else(PoisonError::into_inner);
        let result = f(&mut sinks);
        self.count.store(sinks.len(), Ordering::Relaxed);
        result
    }
}

/// Detaches a subscriber when dropped.
struct Attached<'b, T: ?Sized + Serialize> {
    broadcast: &'b Broadcast<T>,
    id: SubscriptionId,
}

impl<T: ?Sized + Serialize> Drop for Attached<'_, T> {
    fn drop(&mut self) {
        let id = self.id;
        self.broadcast
            .with_sinks(|sinks| sinks.retain(|sink| sink.id() != id));
    }
}

impl<T: ?Sized> fmt::Debug for Broadcast<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broadcast")
            .field("subscribers", &self.count.load(Ordering::Relaxed))
            .finish()
    }
}
