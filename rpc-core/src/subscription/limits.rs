//! The bounds of a connection's outbox, their defaults, and what is refused past them.

/// How many subscriptions one connection may hold at once by default: 1,024.
pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 1_024;

/// How many notifications one connection's outbox holds by default before senders wait: 1,024.
pub const DEFAULT_MAX_QUEUED: usize = 1_024;

/// How many bytes of notifications one connection's outbox holds by default before senders
/// wait: 1 MiB. A notification larger than that still goes, alone.
pub const DEFAULT_MAX_QUEUED_BYTES: usize = 1024 * 1024;

/// The bounds of an [`Outbox`](super::Outbox).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboxLimits {
    /// Live subscriptions at once; one more is refused with
    /// [`ErrorCode::TOO_MANY_SUBSCRIPTIONS`](crate::ErrorCode::TOO_MANY_SUBSCRIPTIONS).
    pub max_subscriptions: usize,
    /// Notifications queued at once.
    pub max_queued: usize,
    /// Bytes of notifications queued at once (one larger notification is let in alone).
    pub max_queued_bytes: usize,
    /// The largest notification, as JSON: a larger item is refused by the sender
    /// ([`SendError::is_too_large`](super::SendError::is_too_large)). The transport's message limit.
    pub max_message_len: usize,
}

impl Default for OutboxLimits {
    fn default() -> Self {
        Self {
            max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS,
            max_queued: DEFAULT_MAX_QUEUED,
            max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
            max_message_len: usize::MAX,
        }
    }
}

impl OutboxLimits {
    /// Sets [`max_subscriptions`](field@OutboxLimits::max_subscriptions).
    #[must_use]
    pub fn max_subscriptions(mut self, subscriptions: usize) -> Self {
        self.max_subscriptions = subscriptions;
        self
    }

    /// Sets [`max_queued`](field@OutboxLimits::max_queued) (at least 1) and
    /// [`max_queued_bytes`](field@OutboxLimits::max_queued_bytes).
    #[must_use]
    pub fn max_queued(mut self, notifications: usize, bytes: usize) -> Self {
        self.max_queued = notifications.max(1);
        self.max_queued_bytes = bytes;
        self
    }

    /// Sets [`max_message_len`](field@OutboxLimits::max_message_len).
    #[must_use]
    pub fn max_message_len(mut self, bytes: usize) -> Self {
        self.max_message_len = bytes;
        self
    }
}

/// Why a subscription could not start.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Refused {
    /// The connection is draining or has ended.
    Closed,
    /// The connection holds the most subscriptions it may.
    TooMany(usize),
}
