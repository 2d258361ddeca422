//! The reaper: the thread that scans a server's connections each period, moving the coarse
//! clock on and signalling the connections a timeout is due for.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use super::{lock, Connections, CLOSE};

impl Connections {
    /// Starts the reaper: a scan each period until the returned guard is dropped.
    ///
    /// It runs on a thread of its own, not as a task: a timer armed on the runtime makes
    /// every park of its worker look through the timer wheel, about 1% of the user-space
    /// instructions of a request on an otherwise quiet server. Should no thread be had, it
    /// runs as a task instead.
    pub(crate) fn start_reaper(self: &Arc<Self>) -> Reaper {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let (connections, stopped) = (Arc::clone(self), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("rpc-reaper".into())
            .spawn(move || loop {
                let (flag, wake) = &*stopped;
                let guard = lock(flag);
                let (guard, _) = wake
                    .wait_timeout_while(guard, connections.period, |stop| !*stop)
                    .unwrap_or_else(PoisonError::into_inner);
                if *guard {
                    return;
                }
                drop(guard);
                connections.scan();
            });
        match thread {
            Ok(_) => Reaper::Thread(stop),
            Err(err) => {
                tracing::warn!(error = %err, "no thread for the reaper; it runs as a task");
                let connections = Arc::clone(self);
                Reaper::Task(tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(connections.period).await;
                        connections.scan();
                    }
                }))
            }
        }
    }

    /// One scan: moves the coarse clock on and signals the connections a timeout is due for.
    fn scan(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.now_ms.store(now, Ordering::Relaxed);
        for (control, level) in self.due(now) {
            if level == CLOSE {
                tracing::debug!("a request head is late, or a response stuck; closing");
            }
            control.signal(level);
        }
    }
}

/// The running reaper; dropping it stops it (within a scan, should one be under way).
pub(crate) enum Reaper {
    Thread(Arc<(Mutex<bool>, Condvar)>),
    Task(tokio::task::JoinHandle<()>),
}

impl Drop for Reaper {
    fn drop(&mut self) {
        match self {
            Reaper::Thread(stop) => {
                *lock(&stop.0) = true;
                stop.1.notify_one();
            }
            Reaper::Task(task) => task.abort(),
        }
    }
}
