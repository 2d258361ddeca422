//! One message of the outbox, ready to be written.

use std::sync::Arc;

use bytes::Bytes;

use super::SubscriptionId;

/// One message of the outbox, ready to be written: a subscription's notification, or what the
/// connection's [`Peer`](crate::Peer) sends. Its JSON text is [`Note::parts`] in order.
#[derive(Clone, Debug)]
pub struct Note(Kind);

#[derive(Clone, Debug)]
enum Kind {
    /// A subscription's item: `head`
    /// (`{"jsonrpc":"2.0","method":NAME,"params":{"subscription":ID,"result":`), the item's
    /// JSON, then `}}`.
    Item {
        id: SubscriptionId,
        head: Arc<[u8]>,
        item: Item,
    },
    /// A whole message of the peer's: a request or a notification.
    Message(Vec<u8>),
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
    /// A subscription's item.
    pub(super) fn item(id: SubscriptionId, head: Arc<[u8]>, item: Item) -> Self {
        Self(Kind::Item { id, head, item })
    }

    /// A whole message of the peer's.
    pub(super) fn message(message: Vec<u8>) -> Self {
        Self(Kind::Message(message))
    }

    /// The notification's JSON text, in three pieces to be written one after the other.
    pub fn parts(&self) -> [&[u8]; 3] {
        match &self.0 {
            Kind::Item { head, item, .. } => [head, item.as_slice(), b"}}"],
            Kind::Message(message) => [message, b"", b""],
        }
    }

    /// The length of its JSON text.
    pub fn len(&self) -> usize {
        match &self.0 {
            Kind::Item { head, item, .. } => head.len() + item.as_slice().len() + 2,
            Kind::Message(message) => message.len(),
        }
    }

    /// Always `false`: a notification has text.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The subscription it belongs to; `None` for a message of the connection's peer.
    pub fn subscription(&self) -> Option<SubscriptionId> {
        match &self.0 {
            Kind::Item { id, .. } => Some(*id),
            Kind::Message(_) => None,
        }
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
