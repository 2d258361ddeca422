//! The outbox: one connection's queue of what it sends unprompted (its subscriptions'
//! notifications, and what its [`Peer`](crate::Peer) sends), and its live subscriptions.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context as TaskContext, Poll, Waker};

use rustc_hash::FxHashMap;

use super::limits::{OutboxLimits, Refused};
use super::live::{Ended, Live};
use super::note::{Item, Note, Taken};
use super::{SendError, SubscriptionId};

mod messages;

/// One connection's side of its subscriptions: the notifications waiting to be written, and
/// the subscriptions alive on it.
///
/// A transport that can push (a WebSocket) makes one per connection, puts it in the calls'
/// [`Context`](crate::Context) ([`Context::with_outbox`](crate::Context::with_outbox)), and
/// writes out what [`Outbox::poll_take`] gives it. Methods never see it: they send through their
/// [`Sink`](crate::Sink). Cloning it is cheap; the clones are the same outbox.
///
/// It is bounded ([`OutboxLimits`]): a sender waits for room ([`Sink::send`](crate::Sink::send))
/// or is refused ([`Sink::try_send`](crate::Sink::try_send)), so a client that does not read
/// costs the server at most the bound.
#[derive(Clone, Debug)]
pub struct Outbox(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    limits: OutboxLimits,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    queue: VecDeque<Note>,
    bytes: usize,
    /// The live subscriptions; one that is not here has ended.
    live: FxHashMap<SubscriptionId, Live>,
    /// The transport's writer, to wake when a notification comes.
    writer: Option<Waker>,
    /// Senders waiting for room.
    waiting: Vec<Waker>,
    /// Once closed (the connection ended), nothing more is taken.
    closed: bool,
    /// Once the subscriptions were ended (the connection drains), no new one starts; messages
    /// still go.
    draining: bool,
    /// A broadcast found the queue full: the connection cannot keep up.
    lagged: bool,
}

impl Default for Outbox {
    fn default() -> Self {
        Self::new(OutboxLimits::default())
    }
}

impl Outbox {
    /// An empty outbox with these bounds.
    pub fn new(limits: OutboxLimits) -> Self {
        Self(Arc::new(Shared {
            limits,
            inner: Mutex::default(),
        }))
    }

    /// Its bounds.
    pub fn limits(&self) -> &OutboxLimits {
        &self.0.limits
    }

    /// How many subscriptions are alive on it.
    pub fn subscriptions(&self) -> usize {
        self.lock().live.len()
    }

    /// Whether the subscription `id` is alive on this connection.
    pub fn is_alive(&self, id: SubscriptionId) -> bool {
        self.lock().live.contains_key(&id)
    }

    /// How many notifications wait to be written.
    pub fn queued(&self) -> usize {
        self.lock().queue.len()
    }

    /// For the transport's writer: moves every waiting notification into `into`, or, with none,
    /// arranges for the task to be woken when one comes. Senders waiting for room are woken.
    pub fn poll_take(&self, task: &mut TaskContext<'_>, into: &mut Vec<Note>) -> Poll<Taken> {
        let mut inner = self.lock();
        if inner.lagged {
            return Poll::Ready(Taken::Lagged);
        }
        if inner.queue.is_empty() {
            if !inner
                .writer
                .as_ref()
                .is_some_and(|w| w.will_wake(task.waker()))
            {
                inner.writer = Some(task.waker().clone());
            }
            return Poll::Pending;
        }
        into.extend(inner.queue.drain(..));
        inner.bytes = 0;
        let waiting = std::mem::take(&mut inner.waiting);
        drop(inner);
        waiting.into_iter().for_each(Waker::wake);
        Poll::Ready(Taken::Notes)
    }

    /// Ends every subscription and drops what waits: the connection is over. Senders are told
    /// the subscription closed, and [`Sink::closed`](crate::Sink::closed) resolves.
    pub fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        inner.queue.clear();
        inner.bytes = 0;
        let live = std::mem::take(&mut inner.live);
        let waiting = std::mem::take(&mut inner.waiting);
        drop(inner);
        live.into_values().for_each(Live::wake);
        waiting.into_iter().for_each(Waker::wake);
    }

    /// Ends every subscription, drops what they queued, and starts no new one, while messages
    /// (what the connection's [`Peer`](crate::Peer) sends) still go: the connection drains,
    /// and the calls in flight, and what they send, are answered and written first. Those
    /// that declared an end notice get one, "shutting down".
    pub fn end_subscriptions(&self) {
        self.end_all(true);
    }

    /// Ends every subscription as [`Outbox::end_subscriptions`] does, with no end notice:
    /// the client went away (a stream's input ended), and the server is not shutting down.
    pub fn end_subscriptions_unannounced(&self) {
        self.end_all(false);
    }

    fn end_all(&self, notices: bool) {
        let mut inner = self.lock();
        inner.draining = true;
        inner.queue.retain(|note| note.subscription().is_none());
        let live = std::mem::take(&mut inner.live);
        // Those that asked for one are told, after what else was queued.
        for (id, live) in live.iter().filter(|_| notices) {
            if let Some(notice) = live.notice(*id, Ended::ShuttingDown) {
                inner.queue.push_back(notice);
            }
        }
        inner.bytes = inner.queue.iter().map(Note::len).sum();
        let waiting = std::mem::take(&mut inner.waiting);
        let writer = inner.writer.take();
        drop(inner);
        live.into_values().for_each(Live::wake);
        waiting.into_iter().chain(writer).for_each(Waker::wake);
    }

    /// Ends the subscription `id` at the client's asking, through the method `by`: `false` if
    /// it is not alive here, or is another method's to end. Whatever it queued and was not yet
    /// taken is dropped in every case, so no item of it follows the answer (a subscription
    /// that ended by itself may still have had items waiting).
    pub fn unsubscribe(&self, id: SubscriptionId, by: &str) -> bool {
        let mut inner = self.lock();
        let ends = inner
            .live
            .get(&id)
            .is_some_and(|live| live.unsubscribe == by);
        let live = if ends { inner.live.remove(&id) } else { None };
        if ends || !inner.live.contains_key(&id) {
            let before = inner.queue.len();
            inner.queue.retain(|note| note.subscription() != Some(id));
            if inner.queue.len() != before {
                inner.bytes = inner.queue.iter().map(Note::len).sum();
            }
        }
        let Some(live) = live else {
            return false;
        };
        let waiting = std::mem::take(&mut inner.waiting);
        drop(inner);
        live.wake();
        waiting.into_iter().for_each(Waker::wake);
        true
    }

    /// Starts a subscription whose notifications are named `notification`; with `notice`,
    /// the server's end of it is told with an end notice.
    pub(crate) fn open(
        &self,
        notification: &str,
        unsubscribe: Cow<'static, str>,
        notice: bool,
    ) -> Result<(SubscriptionId, Arc<[u8]>), Refused> {
        let mut inner = self.lock();
        if inner.closed || inner.draining {
            return Err(Refused::Closed);
        }
        if inner.live.len() >= self.0.limits.max_subscriptions {
            return Err(Refused::TooMany(self.0.limits.max_subscriptions));
        }
        let id = SubscriptionId::fresh();
        let notice = notice.then_some(notification);
        inner.live.insert(id, Live::new(unsubscribe, notice));
        drop(inner);
        let mut head = Vec::with_capacity(80 + notification.len());
        head.extend_from_slice(br#"{"jsonrpc":"2.0","method":"#);
        crate::json_text::write_json_str(&mut head, notification);
        head.extend_from_slice(br#","params":{"subscription":""#);
        head.extend_from_slice(id.to_string().as_bytes());
        head.extend_from_slice(br#"","result":"#);
        Ok((id, head.into()))
    }

    /// Ends a subscription from the server's side: what it queued still goes.
    pub(crate) fn end(&self, id: SubscriptionId) {
        self.finish(id, None);
    }

    /// Ends a subscription whose method ended (`how`): what it queued still goes, then its
    /// end notice, if it asked for one.
    pub(crate) fn finish(&self, id: SubscriptionId, how: Option<Ended>) {
        let mut inner = self.lock();
        let Some(live) = inner.live.remove(&id) else {
            return;
        };
        let waiting = std::mem::take(&mut inner.waiting);
        match how.and_then(|how| live.notice(id, how)) {
            // One small note past the queue's bounds, at most one per subscription.
            Some(notice) => Self::enqueue(inner, notice),
            None => drop(inner),
        }
        live.wake();
        waiting.into_iter().for_each(Waker::wake);
    }

    /// Records why a subscription's method failed, for its end notice.
    pub(crate) fn fail(&self, id: SubscriptionId, why: String) {
        if let Some(live) = self.lock().live.get_mut(&id) {
            live.failure = Some(why);
        }
    }

    /// Whether `id` has started (its transport drives it: its id is answered), `false` if it
    /// ended first; pending (woken when either comes) otherwise.
    pub(crate) fn poll_started(
        &self,
        id: SubscriptionId,
        task: &mut TaskContext<'_>,
    ) -> Poll<bool> {
        let mut inner = self.lock();
        match inner.live.get_mut(&id) {
            None => Poll::Ready(false),
            Some(live) if live.started => Poll::Ready(true),
            Some(live) => {
                if !live.watchers.iter().any(|w| w.will_wake(task.waker())) {
                    live.watchers.push(task.waker().clone());
                }
                Poll::Pending
            }
        }
    }

    /// Marks `id` started: its id is answered, and what it sends may follow.
    pub(crate) fn started(&self, id: SubscriptionId) {
        if let Some(live) = self.lock().live.get_mut(&id) {
            live.start();
        }
    }

    /// Whether `id` is alive; if so, `task` is woken when it ends (as its driver or not).
    pub(crate) fn poll_alive(
        &self,
        id: SubscriptionId,
        task: Option<&mut TaskContext<'_>>,
        driver: bool,
    ) -> bool {
        let mut inner = self.lock();
        let Some(live) = inner.live.get_mut(&id) else {
            return false;
        };
        if let Some(task) = task {
            let waker = task.waker();
            if driver {
                live.start();
                if !live.driver.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    live.driver = Some(waker.clone());
                }
            } else if !live.watchers.iter().any(|w| w.will_wake(waker)) {
                live.watchers.push(waker.clone());
            }
        }
        true
    }

    /// Queues a notification of `id` if there is room; without room, registers `task` (if
    /// any) to be woken when there is, and hands the item back. A broadcast's item (`shared`)
    /// may take the queue to twice its bounds: a burst of broadcasts beside a subscription that
    /// keeps the queue full is no reason to drop a connection that reads.
    pub(crate) fn push(
        &self,
        id: SubscriptionId,
        head: &Arc<[u8]>,
        item: Item,
        task: Option<&mut TaskContext<'_>>,
    ) -> Result<(), (SendError, Item)> {
        let len = head.len() + item.as_slice().len() + 2;
        if len > self.0.limits.max_message_len {
            return Err((
                SendError::too_large_item(len, self.0.limits.max_message_len),
                item,
            ));
        }
        let mut inner = self.lock();
        match inner.live.get(&id) {
            None => return Err((SendError::closed(), item)),
            Some(live) if !live.started => return Err((SendError::not_started(), item)),
            Some(_) => {}
        }
        let scale = if matches!(item, Item::Shared(_)) {
            2
        } else {
            1
        };
        if !self.room(&mut inner, len, scale, task) {
            return Err((SendError::full(), item));
        }
        let note = Note::item(id, Arc::clone(head), item);
        Self::enqueue(inner, note);
        Ok(())
    }

    /// Whether the queue has room for `len` more bytes, its bounds times `scale`; without,
    /// `task` is woken once it has.
    fn room(
        &self,
        inner: &mut Inner,
        len: usize,
        scale: usize,
        task: Option<&mut TaskContext<'_>>,
    ) -> bool {
        let limits = &self.0.limits;
        let room = inner.queue.is_empty()
            || (inner.queue.len() < limits.max_queued.saturating_mul(scale)
                && inner.bytes.saturating_add(len)
                    <= limits.max_queued_bytes.saturating_mul(scale));
        if !room {
            if let Some(task) = task {
                let waker = task.waker();
                if !inner.waiting.iter().any(|w| w.will_wake(waker)) {
                    inner.waiting.push(waker.clone());
                }
            }
        }
        room
    }

    /// Queues `note`, and wakes the writer.
    fn enqueue(mut inner: MutexGuard<'_, Inner>, note: Note) {
        inner.bytes += note.len();
        inner.queue.push_back(note);
        let writer = inner.writer.take();
        drop(inner);
        if let Some(writer) = writer {
            writer.wake();
        }
    }

    /// Gives back the memory of a burst, once it is written: the transport calls it now and
    /// then (`rpc-hyper`: at each ping interval).
    pub fn shrink(&self) {
        let mut inner = self.lock();
        if inner.queue.is_empty() && inner.queue.capacity() > 64 {
            inner.queue = VecDeque::new();
        }
    }

    /// A broadcast found no room: the connection is to be closed by its transport.
    pub(crate) fn lag(&self) {
        let mut inner = self.lock();
        inner.lagged = true;
        let writer = inner.writer.take();
        drop(inner);
        if let Some(writer) = writer {
            writer.wake();
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; a poisoned one is still consistent.
        self.0.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
