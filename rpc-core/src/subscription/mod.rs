//! Subscriptions: a method that answers with an id, then pushes items to its caller until the
//! caller unsubscribes, the connection closes or the method ends.
//!
//! The wire format is the one every client library parses (Ethereum's `eth_subscribe`):
//!
//! 1. the subscribe call is answered with the subscription's id, a string such as
//!    `"0x4a1f…"` ([`SubscriptionId`]);
//! 2. each item is a notification
//!    `{"jsonrpc":"2.0","method":NAME,"params":{"subscription":ID,"result":ITEM}}`;
//! 3. the unsubscribe call takes the id by position and answers `true`, or `false` for an id
//!    that is not alive on the caller's connection. No item follows its answer.
//!
//! When the method ends, the subscription ends with nothing more sent, unless it asked for an
//! end notice (`#[rpc_subscription(end_notice)]`): then a last notification says so and why,
//! `{"jsonrpc":"2.0","method":NAME,"params":{"subscription":ID,"end":{"reason":R}}}`, with `R`
//! `"completed"`, `"failed"` (and a `"message"` when its method returned an error) or
//! `"shutting down"`. Off by default: Ethereum clients see exactly the format above.

mod broadcast;
mod limits;
mod live;
mod note;
mod options;
mod outbox;
mod pending;
mod sink;

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::task::{Context as TaskContext, Poll};

pub use broadcast::Broadcast;
pub(crate) use limits::Refused;
pub use limits::{
    OutboxLimits, DEFAULT_MAX_QUEUED, DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_SUBSCRIPTIONS,
};
pub(crate) use live::Ended;
pub use note::{Note, Taken};
pub use outbox::Outbox;
pub use pending::PendingSink;
pub(crate) use pending::{Deciding, Decision};
pub use sink::{RawSink, SendError, Sink};

use crate::boxed::BoxFuture;

/// A subscription's id: 128 bits, written `"0x"` and 32 lowercase hex digits (geth's form,
/// which Ethereum clients in every language accept).
///
/// The bits are two keyed hashes of a counter, under the random keys the standard library
/// draws from the operating system for its `HashMap`s (SipHash today): without the keys, no
/// one can tell the next id from the ones seen. Ids do not repeat within a server run: the
/// counter does not, and two hashes of 128 bits that collide are not to be expected. (No
/// random-number crate is brought into every server's build for it.)
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(u128);

impl SubscriptionId {
    /// A new id, never handed out before in this process.
    pub(crate) fn fresh() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static KEYS: OnceLock<RandomState> = OnceLock::new();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let keys = KEYS.get_or_init(RandomState::new);
        // Two keyed hashes of the counter (SipHash, a pseudo-random function of its secret
        // key) make 128 bits that say nothing of the counter or of each other.
        let high = keys.hash_one((n, 0u8));
        let low = keys.hash_one((n, 1u8));
        Self(u128::from(high) << 64 | u128::from(low))
    }

    /// Reads an id in its written form, in any case (`0X`, upper-case digits: a client may
    /// have changed it); `None` for anything else.
    ///
    /// ```
    /// use rpc_core::SubscriptionId;
    ///
    /// let id = SubscriptionId::parse("0x00000000000000000000000000000abc").unwrap();
    /// assert_eq!(id.to_string(), "0x00000000000000000000000000000abc");
    /// assert!(SubscriptionId::parse("0xABC").is_none());
    /// assert!(SubscriptionId::parse("12").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        // In any case: a client may have changed it (the digits as a number's, say).
        let hex = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))?;
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(hex, 16).ok().map(Self)
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:032x}", self.0)
    }
}

impl fmt::Debug for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for SubscriptionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

pub use crate::info::SubscriptionInfo;

/// A started subscription: the method's future, for its transport to drive.
///
/// It ends when the method's future does, or as soon as the subscription is ended from outside
/// (unsubscribed, or its connection's [`Outbox::close`]): the future is then dropped, unpolled.
/// A panic inside it ends it too, and is logged. Dropping it ends the subscription.
#[must_use = "a subscription does nothing unless driven"]
pub struct Subscription<'a> {
    outbox: Outbox,
    id: SubscriptionId,
    future: Option<BoxFuture<'a, ()>>,
}

impl<'a> Subscription<'a> {
    pub(crate) fn new(outbox: Outbox, id: SubscriptionId, future: BoxFuture<'a, ()>) -> Self {
        Self {
            outbox,
            id,
            future: Some(future),
        }
    }

    /// Its id.
    pub fn id(&self) -> SubscriptionId {
        self.id
    }

    /// Tells it that its subscribe call's answer is written: what it sends, and its end
    /// notice, may follow from now on. A transport calls this as soon as the answer is out;
    /// the first poll does it too, so one that drives it at once need not. (A subscription
    /// ended before either, by a drain say, gets no end notice: it must not come before the
    /// id.)
    pub fn answered(&self) {
        if self.future.is_some() {
            self.outbox.started(self.id);
        }
    }
}

impl Future for Subscription<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(future) = this.future.as_mut() else {
            return Poll::Ready(());
        };
        if !this.outbox.poll_alive(this.id, Some(task), true) {
            this.future = None;
            return Poll::Ready(());
        }
        let ended = match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(task))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(())) => Ended::Returned,
            Err(panic) => {
                crate::call::panicked("subscription", &*panic);
                Ended::Panicked
            }
        };
        // Ended before its future is dropped: a destructor that panics cannot leak its place.
        let future = this.future.take();
        this.outbox.finish(this.id, Some(ended));
        drop(future);
        Poll::Ready(())
    }
}

impl Drop for Subscription<'_> {
    fn drop(&mut self) {
        if self.future.take().is_some() {
            self.outbox.end(self.id);
        }
    }
}

impl fmt::Debug for Subscription<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("running", &self.future.is_some())
            .finish()
    }
}

/// How a subscription method's body may end: `()`, or a `Result` whose error is logged.
#[diagnostic::on_unimplemented(
    message = "a subscription returns `()` or `Result<(), E>` with `E: Display`, not `{Self}`",
    label = "the subscription's return type"
)]
pub trait SubscriptionEnd {
    /// Logs an error ending.
    fn log(self, method: &str);

    /// Logs an error ending, and keeps it for the subscription's end notice (when it has
    /// one): what generated code calls.
    fn end(self, method: &str, sink: &RawSink)
    where
        Self: Sized,
    {
        let _ = sink;
        self.log(method);
    }
}

impl SubscriptionEnd for () {
    fn log(self, _: &str) {}
}

impl<E: fmt::Display> SubscriptionEnd for Result<(), E> {
    fn log(self, method: &str) {
        if let Err(err) = self {
            tracing::warn!(method, error = %err, "a subscription ended with an error");
        }
    }

    fn end(self, method: &str, sink: &RawSink) {
        if let Err(err) = &self {
            sink.outbox().fail(sink.id(), err.to_string());
        }
        self.log(method);
    }
}
