//! Running the async calls of a batch concurrently.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// Polls the futures on the current task until all are done; outputs in input order.
///
/// Each future gets a waker of its own that queues its index, so a wake-up polls only the
/// futures that asked for it: a batch of `n` calls costs `O(n + wakes)` polls, not `O(n × wakes)`.
pub(crate) async fn join_all<F: Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let shared = Arc::new(Shared {
        // Every future is polled once to start.
        ready: Mutex::new((0..futures.len()).collect()),
        task: Mutex::new(None),
    });
    let wakers: Vec<Waker> = (0..futures.len())
        .map(|index| {
            Waker::from(Arc::new(SlotWaker {
                index,
                shared: Arc::clone(&shared),
            }))
        })
        .collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    let mut pending = futures.len();
    poll_fn(|cx| {
        shared.set_task(cx.waker());
        loop {
            let ready = std::mem::take(&mut *lock(&shared.ready));
            if ready.is_empty() {
                break;
            }
            for index in ready {
                let (Some(future), Some(output), Some(waker)) = (
                    futures.get_mut(index),
                    outputs.get_mut(index),
                    wakers.get(index),
                ) else {
                    continue;
                };
                if output.is_some() {
                    continue;
                }
                if let Poll::Ready(value) = Pin::new(future).poll(&mut Context::from_waker(waker)) {
                    *output = Some(value);
                    pending -= 1;
                }
            }
        }
        if pending == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

struct Shared {
    /// Indexes of the futures woken since they were last polled.
    ready: Mutex<Vec<usize>>,
    /// The task running the join.
    task: Mutex<Option<Waker>>,
}

impl Shared {
    fn set_task(&self, waker: &Waker) {
        let mut task = lock(&self.task);
        if !task.as_ref().is_some_and(|t| t.will_wake(waker)) {
            *task = Some(waker.clone());
        }
    }
}

/// A lock that a panic elsewhere cannot poison for us: the data is a list of indexes, valid
/// whatever happened.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

struct SlotWaker {
    index: usize,
    shared: Arc<Shared>,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        lock(&self.shared.ready).push(self.index);
        let task = lock(&self.shared.task).clone();
        if let Some(task) = task {
            task.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Pending until woken `wakes` times; counts its polls.
    struct Countdown {
        wakes: usize,
        polls: Arc<AtomicUsize>,
    }

    impl Future for Countdown {
        type Output = usize;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            if self.wakes == 0 {
                return Poll::Ready(7);
            }
            self.wakes -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[test]
    fn polls_only_what_was_woken() {
        let polls = Arc::new(AtomicUsize::new(0));
        let futures: Vec<_> = (0..1_000)
            .map(|i| Countdown {
                wakes: i % 3,
                polls: Arc::clone(&polls),
            })
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let outputs = runtime.block_on(join_all(futures));
        assert_eq!(outputs, vec![7; 1_000]);
        // One poll each to start, one more per wake: 1,000 + 0 + 1 + 2 + ... = 2,000 in all.
        assert_eq!(
            polls.load(Ordering::SeqCst),
            1_000 + (0..1_000).map(|i| i % 3).sum::<usize>()
        );
    }
}
