//! The messages of one connection between being read and being answered: the calls running,
//! the bytes they hold, the barrier of one that runs alone, and what waits its turn.

use std::collections::VecDeque;
use std::future::Future;

use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use rpc_core::{Begun, Handled, Order};

/// How many messages a connection holds read but not started, at most, while a call awaits
/// the peer (within the byte budget too): a peer may send this many calls before it answers
/// what it was asked.
const MAX_PARKED: usize = 1_024;

/// The calls in flight (futures of type `F`) and the messages parked behind them.
pub(super) struct Flight<F> {
    /// The async calls running; made at the first, since an empty set costs a future's size.
    running: Option<FuturesUnordered<F>>,
    /// The bytes of the messages whose calls are running: bounded, so that 64 messages of
    /// the largest size do not sit in memory at once.
    bytes: usize,
    /// A message that must end before any later one starts (a notification, an ordered
    /// method's call) is running: what comes meanwhile is parked.
    barrier: bool,
    /// Messages read while no call could start (every place taken, or behind the barrier),
    /// because a running call awaits the peer or may be cancelled, or the transport awaits
    /// answers of its own (a client's calls), and the answer or the cancel may come behind
    /// them: they start in order once there is room.
    parked: VecDeque<Bytes>,
    parked_bytes: usize,
    max_calls: usize,
    /// The bound of `bytes` and of `parked_bytes`.
    budget: usize,
}

/// What became of a message handed to [`Flight::start`].
pub(super) enum Started<'r> {
    /// Handled at once: its answer, to write now.
    Done(Handled<'r>),
    /// Its call runs.
    Running,
    /// It runs alone, once what runs has ended: parked until then.
    Parked,
}

impl<F: Future> Flight<F> {
    pub(super) fn new(max_calls: usize, budget: usize) -> Self {
        Self {
            running: None,
            bytes: 0,
            barrier: false,
            parked: VecDeque::new(),
            parked_bytes: 0,
            max_calls,
            budget,
        }
    }

    /// How many calls are running.
    pub(super) fn running(&self) -> usize {
        self.running.as_ref().map_or(0, FuturesUnordered::len)
    }

    /// Whether a call may start now, parked ones aside.
    fn has_place(&self) -> bool {
        self.running() < self.max_calls && self.bytes < self.budget && !self.barrier
    }

    /// Whether a message read now may start at once: a place, and nothing parked before it.
    pub(super) fn room(&self) -> bool {
        self.has_place() && self.parked.is_empty()
    }

    pub(super) fn has_parked(&self) -> bool {
        !self.parked.is_empty()
    }

    /// Whether no more may be parked.
    pub(super) fn parked_full(&self) -> bool {
        self.parked_bytes >= self.budget || self.parked.len() >= MAX_PARKED
    }

    /// The first parked message, when it may start.
    pub(super) fn release(&mut self) -> Option<Bytes> {
        if self.parked.is_empty() || !self.has_place() {
            return None;
        }
        let body = self.parked.pop_front()?;
        self.parked_bytes -= body.len();
        Some(body)
    }

    /// Parks a message read, behind those parked before.
    pub(super) fn park(&mut self, body: Bytes) {
        self.parked_bytes += body.len();
        self.parked.push_back(body);
    }

    /// Starts a message as `begun` says: its answer now, or its call running (made by `later`
    /// from the message and whether it holds the barrier), or, when it must run alone and
    /// calls run, parked (first when it `was_parked`, as it came from there).
    pub(super) fn start<'r>(
        &mut self,
        body: Bytes,
        begun: Begun<'r>,
        was_parked: bool,
        later: impl FnOnce(Bytes, bool) -> F,
    ) -> Started<'r> {
        match begun {
            Begun::Done(handled) => Started::Done(handled),
            Begun::Later(Order::Alone) if self.running() > 0 => {
                self.parked_bytes += body.len();
                if was_parked {
                    self.parked.push_front(body);
                } else {
                    self.parked.push_back(body);
                }
                Started::Parked
            }
            Begun::Later(order) => {
                self.barrier = order != Order::Concurrent;
                self.bytes = self.bytes.saturating_add(body.len());
                let call = later(body, self.barrier);
                self.running
                    .get_or_insert_with(FuturesUnordered::new)
                    .push(call);
                Started::Running
            }
        }
    }

    /// A call of a message of `len` bytes has ended; `barrier` if it held the barrier.
    pub(super) fn ended(&mut self, len: usize, barrier: bool) {
        self.bytes = self.bytes.saturating_sub(len);
        self.barrier &= !barrier;
    }

    /// The set of running calls, to await the next answer.
    pub(super) fn calls(&mut self) -> &mut Option<FuturesUnordered<F>> {
        &mut self.running
    }
}
