//! One message of the outbox, ready to be written.

use std::sync::Arc;

use bytes::Bytes;

use super::SubscriptionId;

/// One message of the outbox, ready to be written: a subscription's notification, or what the
/// connection's [`Peer`](crate::Peer) sends. Its JSON text is [`Note::parts`] in order.
#[derive(Clone, Debug)]
pub struct Note {
    /// The subscription it belongs to; `None` for the peer's.
    pub(super) id: Option<SubscriptionId>,
    /// A notification's `{"jsonrpc":"2.0","method":NAME,"params":{"subscription":ID,"result":`;
    /// empty for the peer's.
    pub(super) head: Arc<[u8]>,
    pub(super) item: Item,
    /// A notification's `}}`; empty for the peer's.
    pub(super) tail: &'static [u8],
}

/// An item's JSON: its own buffer (one subscriber), or one shared by many (a broadcast).
#[derive(Clone, Debug)]
pub(crate) enum Item {
    Own(Vec<u8>),
    Shared(Bytes),
}

impl Item {
    pub(super) fn as_slice(&self) -> &[u8] {
        match self {
            Item::Own(json) => json,
            Item::Shared(json) => json,
        }
    }
}

impl Note {
    /// The notification's JSON text, in three pieces to be written one after the other.
    pub fn parts(&self) -> [&[u8]; 3] {
        [&self.head, self.item.as_slice(), self.tail]
    }

    /// The length of its JSON text.
    pub fn len(&self) -> usize {
        self.head.len() + self.item.as_slice().len() + self.tail.len()
    }

    /// Always `false`: a notification has text.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The subscription it belongs to; `None` for a message of the connection's peer.
    pub fn subscription(&self) -> Option<SubscriptionId> {
        self.id
    }
}

/// What [`Outbox::poll_take`](super::Outbox::poll_take) found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Taken {
    /// Notifications, appended to the caller's list.
    Notes,
    /// The connection cannot keep up: a broadcast found its queue full and a subscriber
    /// missed an item. The transport should close it (a WebSocket: close code 1008).
    Lagged,
}
