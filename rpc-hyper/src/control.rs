//! The server's watch over its connections: the keep-alive and header read timeouts, kept by
//! one reaper thread against a coarse clock, and the signals that drain or close connections.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Finish in-flight requests, take no new ones: on shutdown, or when idle.
pub(crate) const DRAIN: u8 = 1;
/// Close now: the drain time is over.
pub(crate) const CLOSE: u8 = 2;

/// The open connections: for the keep-alive and header read timeouts, and for shutdown.
///
/// One thread for the whole server, the reaper, scans them eight times per timeout, against a
/// coarse clock it keeps itself; the I/O path pays a few relaxed atomic loads and stores per
/// read or write, and a connection's wake-ups an atomic load: no clock read, no timer, no
/// lock.
///
/// - A connection is idle when no byte has moved for the keep-alive timeout. Closing one is
///   graceful, so a request still being worked on (which moves no bytes) is answered first.
///   One still there a keep-alive timeout later, with no request being worked on, is stuck
///   writing to a client that does not read: it is closed at once.
/// - A request head is late when its first byte (or, on a new connection, the connection
///   itself) came longer than the header read timeout ago and the head is still incomplete.
///   Such a connection is closed at once. The clock starts at the first byte, so a kept-alive
///   connection waiting for its next request is bound by the keep-alive timeout alone.
///   HTTP/2 connections have no request heads in this sense: their requests are streams.
///
/// A deadline is met once the clock has moved past it by a scan period, so a connection is
/// never closed early by the clock's coarseness: it gets between 1 and 1¼ times its timeout.
pub(crate) struct Connections {
    keep_alive_ms: u64,
    header_read_ms: u64,
    period: Duration,
    /// Past this many open connections, HTTP/1 connections park while they wait.
    park_over: usize,
    /// How many connections are open.
    count: AtomicUsize,
    start: Instant,
    /// Milliseconds since `start`, as of the last scan.
    now_ms: AtomicU64,
    /// The server's shutdown has begun: its health check answers 503.
    stopping: AtomicBool,
    open: Mutex<Vec<Weak<Control>>>,
}

/// `Control::head_since_ms` when no request head is arriving.
pub(crate) const NO_HEAD: u64 = u64::MAX;

impl Connections {
    pub(crate) fn new(keep_alive: Duration, header_read: Duration, park_over: usize) -> Self {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            keep_alive_ms: millis(keep_alive),
            header_read_ms: millis(header_read),
            period: (keep_alive.min(header_read) / 8).max(Duration::from_millis(5)),
            park_over,
            count: AtomicUsize::new(0),
            start: Instant::now(),
            now_ms: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            open: Mutex::new(Vec::new()),
        }
    }

    /// Starts watching a new connection; the clock for its first request head starts now.
    pub(crate) fn track(self: &Arc<Self>) -> Arc<Control> {
        let now = self.now_ms.load(Ordering::Relaxed);
        let control = Arc::new(Control {
            connections: Arc::clone(self),
            last_active_ms: AtomicU64::new(now),
            last_write_ms: AtomicU64::new(now),
            head_since_ms: AtomicU64::new(now),
            in_flight: AtomicUsize::new(0),
            linger: AtomicUsize::new(0),
            waiting: AtomicBool::new(false),
            parking: AtomicBool::new(false),
            signal: AtomicU8::new(0),
            websocket: AtomicBool::new(false),
            waker: Mutex::new(None),
        });
        let open = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        let mut list = lock(&self.open);
        // The closed ones are forgotten here too, not only by the reaper's scans (a server
        // without a reaper has none): past twice the open ones, in time linear in the list,
        // so a connection costs the list O(1) on the whole.
        if list.len() >= open.saturating_mul(2).max(64) {
            list.retain(|weak| weak.strong_count() > 0);
        }
        list.push(Arc::downgrade(&control));
        drop(list);
        control
    }

    /// How many connections the list remembers, closed or not.
    #[cfg(test)]
    fn remembered(&self) -> usize {
        lock(&self.open).len()
    }

    /// The server's shutdown has begun: from now on its health check answers 503.
    pub(crate) fn stop_admitting(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    /// Signals every open connection.
    pub(crate) fn signal_all(&self, level: u8) {
        let open: Vec<_> = lock(&self.open).iter().filter_map(Weak::upgrade).collect();
        for control in open {
            control.signal(level);
        }
    }

    /// The connections a timeout is due for at `now`, with the signal each gets; forgets the
    /// closed ones.
    fn due(&self, now: u64) -> Vec<(Arc<Control>, u8)> {
        let period_ms = u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX);
        let idle_after = self.keep_alive_ms.saturating_add(period_ms);
        let late_after = self.header_read_ms.saturating_add(period_ms);
        let mut due = Vec::new();
        lock(&self.open).retain(|weak| {
            let Some(control) = weak.upgrade() else {
                return false;
            };
            let head_since = control.head_since_ms.load(Ordering::Relaxed);
            // A head waiting behind a response still being written is not the client's delay.
            let last_write = control.last_write_ms.load(Ordering::Relaxed);
            if head_since != NO_HEAD && now.saturating_sub(head_since.max(last_write)) >= late_after
            {
                due.push((control, CLOSE));
            } else if control.websocket.load(Ordering::Relaxed) {
                // A WebSocket keeps its own liveness (pings) and write deadline.
            } else {
                let quiet = now.saturating_sub(control.last_active_ms.load(Ordering::Relaxed));
                if quiet >= idle_after.saturating_add(self.keep_alive_ms)
                    && control.in_flight.load(Ordering::Relaxed) == 0
                {
                    // Drained a keep-alive timeout ago, and still there with nothing in flight:
                    // stuck writing to a client that does not read.
                    due.push((control, CLOSE));
                } else if quiet >= idle_after {
                    due.push((control, DRAIN));
                }
            }
            true
        });
        due
    }
}

/// A lock whose data (a list of weak references, a waker) is valid whatever a panic elsewhere
/// interrupted.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One connection's link to the server, and the state its I/O, its service and its task
/// share. Every field is an atomic, as HTTP/2 answers requests on tasks of their own; on the
/// HTTP/1 path they are touched by one task only, so they cost what plain loads and stores do.
pub(crate) struct Control {
    connections: Arc<Connections>,
    /// The coarse clock at the connection's last read or write.
    last_active_ms: AtomicU64,
    /// The coarse clock at the connection's last write.
    last_write_ms: AtomicU64,
    /// The coarse clock when the request head now arriving began, or [`NO_HEAD`].
    head_since_ms: AtomicU64,
    /// Requests handed to the service whose responses are not ready yet.
    in_flight: AtomicUsize,
    /// How many bytes to read and drop before closing, as the last request's answer went
    /// out before its body was read (0: it did not).
    linger: AtomicUsize,
    /// A read is waiting for bytes with no request in flight: HTTP/1 waits for a request.
    waiting: AtomicBool,
    /// The connection is parked, or being parked: hyper's shutdown must leave the socket
    /// open.
    parking: AtomicBool,
    /// The highest level signalled: 0, [`DRAIN`] or [`CLOSE`].
    signal: AtomicU8,
    /// The connection has become a WebSocket: the idle rules are not the reaper's to apply.
    websocket: AtomicBool,
    /// The connection task's waker.
    waker: Mutex<Option<Waker>>,
}

impl Control {
    /// Whether the server's shutdown has begun.
    pub(crate) fn server_stopping(&self) -> bool {
        self.connections.stopping.load(Ordering::Relaxed)
    }

    /// The coarse clock.
    pub(crate) fn now_ms(&self) -> u64 {
        self.connections.now_ms.load(Ordering::Relaxed)
    }

    /// Bytes arrived: if no request is in flight and no head is arriving, they start one.
    pub(crate) fn bytes_read(&self) {
        let now = self.now_ms();
        self.last_active_ms.store(now, Ordering::Relaxed);
        self.waiting.store(false, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_since_ms.load(Ordering::Relaxed) == NO_HEAD
        {
            self.head_since_ms.store(now, Ordering::Relaxed);
        }
    }

    /// Bytes arrived on a connection whose reads say nothing about request heads (HTTP/2).
    pub(crate) fn touch(&self) {
        self.last_active_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Bytes were written.
    /// A TLS handshake begins: its own time limit holds, not the header read timeout.
    #[cfg(feature = "tls")]
    pub(crate) fn handshake_started(&self) {
        self.head_since_ms.store(NO_HEAD, Ordering::Relaxed);
    }

    /// The TLS handshake is over: the first request head is timed from now.
    #[cfg(feature = "tls")]
    pub(crate) fn handshake_done(&self) {
        let now = self.now_ms();
        self.last_active_ms.store(now, Ordering::Relaxed);
        self.head_since_ms.store(now, Ordering::Relaxed);
    }

    pub(crate) fn wrote(&self) {
        let now = self.now_ms();
        self.last_active_ms.store(now, Ordering::Relaxed);
        self.last_write_ms.store(now, Ordering::Relaxed);
    }

    /// The connection has become a WebSocket: no request head arrives any more, and it keeps
    /// its own liveness.
    #[cfg(feature = "ws")]
    pub(crate) fn websocket(&self) {
        self.no_heads();
        self.websocket.store(true, Ordering::Relaxed);
    }

    /// The connection speaks HTTP/2: no request head is arriving, now or later.
    pub(crate) fn no_heads(&self) {
        self.head_since_ms.store(NO_HEAD, Ordering::Relaxed);
    }

    /// A read found no bytes: with no request in flight and no head arriving, the connection
    /// waits for a request.
    pub(crate) fn read_would_wait(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_since_ms.load(Ordering::Relaxed) == NO_HEAD
        {
            self.waiting.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the connection has been waiting for a request since it last looked; clears it.
    pub(crate) fn take_waiting(&self) -> bool {
        self.waiting.swap(false, Ordering::Relaxed)
    }

    /// Whether so many connections are open that one waiting for a request should park.
    pub(crate) fn crowded(&self) -> bool {
        self.connections.count.load(Ordering::Relaxed) > self.connections.park_over
    }

    /// Marks the connection as parked, or being parked (or no longer).
    pub(crate) fn set_parking(&self, parking: bool) {
        self.parking.store(parking, Ordering::Relaxed);
    }

    /// Whether the connection is parked, or being parked.
    pub(crate) fn is_parking(&self) -> bool {
        self.parking.load(Ordering::Relaxed)
    }

    /// A request's head is complete: it is handed to the service.
    pub(crate) fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_since_ms.store(NO_HEAD, Ordering::Relaxed);
        // An earlier request's body was read to its end after all: hyper went on.
        self.linger.store(0, Ordering::Relaxed);
    }

    /// The answer being sent goes out before its request's body is read: before it closes,
    /// the connection reads and drops up to `bytes` of what the client still sends.
    pub(crate) fn linger(&self, bytes: usize) {
        self.linger.store(bytes, Ordering::Relaxed);
    }

    /// How many bytes the connection reads and drops before it closes (see [`Self::linger`]).
    pub(crate) fn lingers(&self) -> usize {
        self.linger.load(Ordering::Relaxed)
    }

    /// A request's response is ready (or its future was dropped).
    pub(crate) fn request_finished(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    fn signal(&self, level: u8) {
        if self.signal.fetch_max(level, Ordering::AcqRel) < level {
            // The waker stays: a later, higher signal must find it too.
            if let Some(waker) = lock(&self.waker).as_ref() {
                waker.wake_by_ref();
            }
        }
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        self.connections.count.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Completes each time the connection's signal rises, with the new level ([`DRAIN`] or
/// [`CLOSE`]).
pub(crate) struct SignalWatch<'a> {
    control: &'a Control,
    seen: u8,
    /// The waker last handed to `control`: while the task's waker is the same, polling takes no
    /// lock.
    registered: Option<Waker>,
}

impl<'a> SignalWatch<'a> {
    pub(crate) fn new(control: &'a Control) -> Self {
        Self {
            control,
            seen: 0,
            registered: None,
        }
    }
}

impl SignalWatch<'_> {
    /// Whether any signal has been seen.
    pub(crate) fn seen_any(&self) -> bool {
        self.seen > 0
    }

    /// Whether the signal to close outright has been seen.
    pub(crate) fn seen_close(&self) -> bool {
        self.seen >= CLOSE
    }
}

impl Future for SignalWatch<'_> {
    type Output = u8;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u8> {
        let level = self.control.signal.load(Ordering::Acquire);
        if level > self.seen {
            self.seen = level;
            return Poll::Ready(level);
        }
        if !self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            *lock(&self.control.waker) = Some(cx.waker().clone());
            self.registered = Some(cx.waker().clone());
            // A signal raised before the waker was stored would be missed: look again.
            let level = self.control.signal.load(Ordering::Acquire);
            if level > self.seen {
                self.seen = level;
                return Poll::Ready(level);
            }
        }
        Poll::Pending
    }
}

mod reaper;
#[cfg(test)]
mod tests;

#[cfg(test)]
use reaper::Reaper;
