//! The options a subscription method declares, beside its name, notifications and
//! unsubscribe method: how it answers unknown ids, whether it decides before it starts,
//! whether its end is told, and which kind of its name it is.

use std::borrow::Cow;

use crate::Method;

impl<S> Method<S> {
    /// For a subscription: it is one kind of several under its subscribe name, as
    /// `eth_subscribe` has `newHeads`, `logs` and `newPendingTransactions`, each its own
    /// function with its own item type. A call names the kind first (`["logs", {...}]`); the
    /// params after it are the kind's, by position. The kinds of one name share their
    /// notifications, unsubscribe method and options; registering a kind twice, or one that
    /// differs, is an error. `#[rpc_subscription(name = "eth_subscribe", kind = "logs")]`
    /// declares it (with no client stub: a client sends `[kind, ...]` itself). Register kinds
    /// on the [`Router`](crate::Router) itself, not in a [`Methods`](crate::Methods) module.
    #[must_use]
    pub fn kind(mut self, kind: impl Into<Cow<'static, str>>) -> Self {
        if let Some(subscription) = &mut self.info.subscription {
            subscription.kind = Some(kind.into());
        }
        self
    }

    /// For a subscription: when the server ends it (its method returns or fails, the server
    /// shuts down), a last notification tells the client, with the reason:
    /// `{"jsonrpc":"2.0","method":NAME,"params":{"subscription":ID,"end":{"reason":"completed"}}}`
    /// (or `"failed"`, with a `"message"` for the error its method returned, or
    /// `"shutting down"`). `rpc-hyper`'s client ends the subscription's stream with that
    /// reason. `#[rpc_subscription(end_notice)]` declares it. Off by default, so that Ethereum
    /// clients see exactly the format they parse; a subscription the client ends gets none.
    #[must_use]
    pub fn end_notice(mut self) -> Self {
        if let Some(subscription) = &mut self.info.subscription {
            subscription.end_notice = true;
        }
        self
    }

    /// For a subscription: its method decides before it starts, through a
    /// [`PendingSink`](crate::PendingSink) made from its sink, and its subscribe call is
    /// answered once it has (the id, or the error it refused with). `#[rpc_subscription]`
    /// marks a method that takes a `PendingSink` itself.
    #[must_use]
    pub fn pending_sink(mut self) -> Self {
        if let Some(subscription) = &mut self.info.subscription {
            subscription.pending = true;
        }
        self
    }

    /// For a subscription: unsubscribing an id that is not alive on the caller's connection
    /// answers the error go-ethereum answers, [`geth::subscription_not_found`]
    /// (-32000 "subscription not found"), rather than `false`. `#[rpc_subscription(unknown_id
    /// = "error")]` declares it. Subscriptions that share an unsubscribe method share its
    /// answer: the first registered decides.
    ///
    /// [`geth::subscription_not_found`]: crate::geth::subscription_not_found
    #[must_use]
    pub fn unknown_id_errors(mut self) -> Self {
        if let Some(subscription) = &mut self.info.subscription {
            subscription.unknown_id_errors = true;
        }
        self
    }
}
