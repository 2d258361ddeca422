//! The sending side of a subscription.

use std::fmt;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use serde::Serialize;

use super::note::Item;
use super::pending::Decision;
use super::{Outbox, SubscriptionId};

/// Where a subscription method sends its items: each becomes a notification to the client
/// that subscribed, in the order sent.
///
/// - [`Sink::send`] waits for room in the connection's bounded queue;
/// - [`Sink::try_send`] does not wait: a full queue is an error;
/// - [`Sink::closed`] resolves when the client unsubscribed or went away.
///
/// Sending fails once the subscription has ended. A `Sink` is cheap to clone and may be moved
/// to another task, but the subscription lives only as long as its method runs: when the
/// method returns, the subscription ends and later sends fail.
///
/// ```
/// use rpc_core::{rpc_subscription, Sink};
/// use std::time::Duration;
///
/// /// Counts down from `from`, one number every `interval_ms`.
/// #[rpc_subscription]
/// async fn countdown(from: u64, interval_ms: u64, sink: Sink<u64>) {
///     for n in (0..=from).rev() {
///         if sink.send(n).await.is_err() {
///             return; // the client unsubscribed or went away
///         }
///         tokio::time::sleep(Duration::from_millis(interval_ms)).await;
///     }
/// }
/// // Registered, it is `subscribe_countdown` and `unsubscribe_countdown`, with notifications
/// // named `countdown`.
/// ```
pub struct Sink<T> {
    raw: RawSink,
    item: PhantomData<fn(&T)>,
}

/// A [`Sink`] that takes items already serialized: what [`Broadcast`](crate::Broadcast) and
/// generated code use.
#[derive(Clone)]
pub struct RawSink {
    outbox: Outbox,
    id: SubscriptionId,
    head: Arc<[u8]>,
    /// For a subscription that decides before it starts: where its
    /// [`PendingSink`](super::PendingSink) tells its call.
    pub(super) decision: Option<Arc<Decision>>,
}

impl RawSink {
    pub(crate) fn new(outbox: Outbox, id: SubscriptionId, head: Arc<[u8]>) -> Self {
        Self {
            outbox,
            id,
            head,
            decision: None,
        }
    }

    pub(crate) fn with_decision(mut self, decision: Option<Arc<Decision>>) -> Self {
        self.decision = decision;
        self
    }

    /// The subscription's id.
    pub fn id(&self) -> SubscriptionId {
        self.id
    }

    /// Whether the subscription has ended.
    pub fn is_closed(&self) -> bool {
        !self.outbox.poll_alive(self.id, None, false)
    }

    /// Queues an item given as JSON text, if there is room now. The text is not checked: it
    /// must be one JSON value.
    pub fn try_send_json(&self, json: Bytes) -> Result<(), SendError> {
        self.try_send_item(Item::Shared(json))
    }

    /// Queues an item given as JSON text, waiting for room. The text is not checked: it must
    /// be one JSON value.
    pub async fn send_json(&self, json: Bytes) -> Result<(), SendError> {
        self.send_item(Item::Shared(json)).await
    }

    pub(crate) fn try_send_item(&self, item: Item) -> Result<(), SendError> {
        self.outbox
            .push(self.id, &self.head, item, None)
            .map_err(|(err, _)| err)
    }

    pub(crate) async fn send_item(&self, item: Item) -> Result<(), SendError> {
        let mut item = Some(item);
        poll_fn(|task| {
            let Some(json) = item.take() else {
                return Poll::Ready(Err(SendError::closed()));
            };
            match self.outbox.push(self.id, &self.head, json, Some(task)) {
                Ok(()) => Poll::Ready(Ok(())),
                Err((err, json)) if err.is_full() => {
                    item = Some(json);
                    Poll::Pending
                }
                Err((err, _)) => Poll::Ready(Err(err)),
            }
        })
        .await
    }

    /// Resolves when the subscription has ended.
    pub async fn closed(&self) {
        poll_fn(|task| {
            if self.outbox.poll_alive(self.id, Some(task), false) {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
    }

    pub(crate) fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}

impl fmt::Debug for RawSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSink").field("id", &self.id).finish()
    }
}

impl<T: Serialize> Sink<T> {
    /// The typed sink over a raw one.
    pub fn from_raw(raw: RawSink) -> Self {
        Self {
            raw,
            item: PhantomData,
        }
    }

    /// The untyped sink underneath.
    pub fn raw(&self) -> &RawSink {
        &self.raw
    }

    /// The subscription's id, as the client knows it.
    pub fn id(&self) -> SubscriptionId {
        self.raw.id
    }

    /// Sends an item, waiting while the connection's queue is full. Fails when the
    /// subscription has ended, or for an item that does not serialize or is larger than the
    /// connection's message limit (the subscription goes on).
    pub async fn send(&self, item: T) -> Result<(), SendError> {
        let json = encode(&item)?;
        drop(item);
        self.raw.send_item(Item::Own(json)).await
    }

    /// Sends an item if the connection's queue has room now; a full queue is
    /// [`SendError::is_full`].
    pub fn try_send(&self, item: T) -> Result<(), SendError> {
        self.raw.try_send_item(Item::Own(encode(&item)?))
    }

    /// Resolves when the subscription has ended: the client unsubscribed or went away.
    pub async fn closed(&self) {
        self.raw.closed().await;
    }

    /// Whether the subscription has ended.
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }
}

impl<T> Clone for Sink<T> {
    fn clone(&self) -> Self {
        Self {
            raw: self.raw.clone(),
            item: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Sink<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink").field("id", &self.raw.id).finish()
    }
}

/// Serializes an item once.
pub(crate) fn encode<T: ?Sized + Serialize>(item: &T) -> Result<Vec<u8>, SendError> {
    serde_json::to_vec(item).map_err(|err| SendError(Why::Invalid(err.to_string())))
}

/// An item could not be sent.
#[derive(Clone, PartialEq, Eq)]
pub struct SendError(Why);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Why {
    Closed,
    NotStarted,
    Full,
    TooLarge { len: usize, limit: usize },
    Invalid(String),
}

impl SendError {
    pub(crate) fn closed() -> Self {
        Self(Why::Closed)
    }

    pub(crate) fn not_started() -> Self {
        Self(Why::NotStarted)
    }

    pub(crate) fn full() -> Self {
        Self(Why::Full)
    }

    pub(crate) fn too_large_item(len: usize, limit: usize) -> Self {
        Self(Why::TooLarge { len, limit })
    }

    /// The subscription has ended: stop sending.
    pub fn is_closed(&self) -> bool {
        self.0 == Why::Closed
    }

    /// The subscription has not started: its subscribe call is not answered yet, and nothing
    /// may go before the id. (Only a hand-built subscription can send that early: the
    /// attribute's runs once the answer is written.)
    pub fn is_not_started(&self) -> bool {
        self.0 == Why::NotStarted
    }

    /// The queue is full (only from `try_send`).
    pub fn is_full(&self) -> bool {
        self.0 == Why::Full
    }

    /// The item's JSON is larger than the connection's message limit; it was not sent.
    pub fn is_too_large(&self) -> bool {
        matches!(self.0, Why::TooLarge { .. })
    }

    /// The length and the limit of an item too large.
    pub(crate) fn too_large(&self) -> Option<(usize, usize)> {
        match self.0 {
            Why::TooLarge { len, limit } => Some((len, limit)),
            _ => None,
        }
    }

    /// The item did not serialize; it was not sent.
    pub fn is_invalid(&self) -> bool {
        matches!(self.0, Why::Invalid(_))
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Why::Closed => f.write_str("the subscription has ended"),
            Why::NotStarted => f.write_str("the subscription's id is not answered yet"),
            Why::Full => f.write_str("the connection's queue is full"),
            Why::TooLarge { len, limit } => write!(
                f,
                "the notification is {len} bytes, over the connection's limit of {limit}"
            ),
            Why::Invalid(err) => write!(f, "the item did not serialize: {err}"),
        }
    }
}

impl fmt::Debug for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SendError({self})")
    }
}

impl std::error::Error for SendError {}
