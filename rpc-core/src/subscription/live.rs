//! What the outbox keeps of a live subscription, and the end notice it sends when the server
//! ends one that asked for it ([`Method::end_notice`](crate::Method::end_notice)).
//!
//! The notice is the subscription's last notification, with `end` where its items have
//! `result`:
//! `{"jsonrpc":"2.0","method":NAME,"params":{"subscription":ID,"end":{"reason":R}}}`, where
//! `R` is `"completed"` (its method returned), `"failed"` (its method returned an error, said
//! in `"message"`, or panicked) or `"shutting down"` (the server drains). A subscription the
//! client ends (unsubscribing, leaving) gets none.

use std::borrow::Cow;
use std::task::Waker;

use serde_json::json;

use super::note::Note;
use super::SubscriptionId;

#[derive(Debug)]
pub(super) struct Live {
    /// The method that may end it.
    pub(super) unsubscribe: Cow<'static, str>,
    /// Whether the transport drives it yet: it has answered the subscribe call. Nothing is
    /// queued before, so nothing can go before the id.
    pub(super) started: bool,
    /// The subscription's future, driven by the transport.
    pub(super) driver: Option<Waker>,
    /// Those waiting in [`Sink::closed`](crate::Sink::closed).
    pub(super) watchers: Vec<Waker>,
    /// The name of its notifications, when it ends with a notice.
    pub(super) notice: Option<Box<str>>,
    /// Why its method failed, when it returned an error.
    pub(super) failure: Option<String>,
}

/// How a subscription the server ends, ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Its method returned (with an error, if it told [`Live::failure`]).
    Returned,
    /// Its method panicked.
    Panicked,
    /// The server drains.
    ShuttingDown,
}

impl Live {
    pub(super) fn new(unsubscribe: Cow<'static, str>, notice: Option<&str>) -> Self {
        Self {
            unsubscribe,
            started: false,
            driver: None,
            watchers: Vec::new(),
            notice: notice.map(Box::from),
            failure: None,
        }
    }

    pub(super) fn wake(self) {
        self.driver
            .into_iter()
            .chain(self.watchers)
            .for_each(Waker::wake);
    }

    /// Marks it started (its id is answered): those waiting for that (an accepting sink) may
    /// go on.
    pub(super) fn start(&mut self) {
        if !self.started {
            self.watchers.drain(..).for_each(Waker::wake);
        }
        self.started = true;
    }

    /// Its end notice, if it asked for one and had started (no notice can go before its id).
    pub(super) fn notice(&self, id: SubscriptionId, ended: Ended) -> Option<Note> {
        let name = self.notice.as_deref().filter(|_| self.started)?;
        let end = match (ended, &self.failure) {
            (Ended::Returned, None) => json!({ "reason": "completed" }),
            (Ended::Returned, Some(why)) => json!({ "reason": "failed", "message": why }),
            (Ended::Panicked, _) => json!({ "reason": "failed" }),
            (Ended::ShuttingDown, _) => json!({ "reason": "shutting down" }),
        };
        let notice = json!({
            "jsonrpc": "2.0",
            "method": name,
            "params": { "subscription": id, "end": end },
        });
        serde_json::to_vec(&notice).ok().map(Note::message)
    }
}
