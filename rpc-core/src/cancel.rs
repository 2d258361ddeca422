//! Cancellation: the other side of a connection gives up on a request it sent, by a
//! notification whose name and params its protocol sets.
//!
//! | dialect | notification | the cancelled call |
//! |---|---|---|
//! | [`Dialect::Lsp`] | `$/cancelRequest` `{"id": ID}` | answered with -32800 "Request cancelled" |
//! | [`Dialect::Mcp`] | `notifications/cancelled` `{"requestId": ID, "reason": ...}` | not answered |
//!
//! A transport that supports it makes one [`Cancellation`] per connection and puts it in the
//! calls' context ([`Context::with_cancellation`](crate::Context::with_cancellation)). A
//! running async call whose id is cancelled has its future dropped at its next await point;
//! cancelling an id that is unknown, or whose call has ended, does nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context as TaskContext, Waker};

use rustc_hash::FxHashMap;
use serde_json::value::RawValue;

use crate::{Dialect, ErrorObject, Id, Params};

/// The error code of a call its caller cancelled (LSP's `RequestCancelled`): -32800.
pub const REQUEST_CANCELLED: i32 = -32800;

/// One connection's running calls that may be cancelled, by id.
#[derive(Debug)]
pub struct Cancellation {
    dialect: Dialect,
    calls: Mutex<Calls>,
}

/// How many cancels for ids not running are kept, in case their calls start later: a
/// request read but not yet started (parked, or not yet polled) is cancelled all the same.
const EARLY_CANCELS: usize = 256;

#[derive(Debug, Default)]
struct Calls {
    running: FxHashMap<String, Arc<Token>>,
    /// Ids cancelled before their calls started, oldest first; at most [`EARLY_CANCELS`].
    early: std::collections::VecDeque<String>,
}

impl Cancellation {
    /// No call yet, in this style.
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            calls: Mutex::default(),
        }
    }

    /// Its dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn lock(&self) -> MutexGuard<'_, Calls> {
        // Nothing panics while holding the lock; a poisoned one is still consistent.
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers the call `id`, until the entry is dropped. A second call with the same id
    /// (the caller's mistake) takes it over: a cancel reaches the later one.
    pub(crate) fn register(&self, id: &Id<'_>) -> Entry<'_> {
        let key = id.to_string();
        let token = Arc::new(Token::default());
        let mut calls = self.lock();
        if let Some(at) = calls.early.iter().position(|early| *early == key) {
            // Cancelled before it started: it starts cancelled.
            calls.early.remove(at);
            token.cancelled.store(true, Ordering::Release);
        }
        calls.running.insert(key.clone(), Arc::clone(&token));
        drop(calls);
        Entry {
            owner: self,
            key,
            token,
        }
    }

    /// Handles the cancel notification's params: the call it names is cancelled. Params that
    /// name no id, or an id not running, do nothing.
    pub(crate) fn cancel(&self, params: Params<'_>) {
        let Some(raw) = params.raw() else { return };
        #[derive(serde::Deserialize)]
        struct Members<'a> {
            #[serde(borrow, default)]
            id: Option<&'a RawValue>,
            #[serde(borrow, default, rename = "requestId")]
            request_id: Option<&'a RawValue>,
        }
        let Ok(members) = serde_json::from_str::<Members<'_>>(raw) else {
            tracing::debug!("a cancel notification whose params are not an object");
            return;
        };
        let named = match self.dialect {
            Dialect::Lsp => members.id,
            _ => members.request_id,
        };
        let Some(id) = named.and_then(Id::from_raw) else {
            return;
        };
        let key = id.to_string();
        let mut calls = self.lock();
        let token = calls.running.get(&key).cloned();
        match token {
            Some(token) => {
                drop(calls);
                tracing::debug!(%id, "a call cancelled by its caller");
                token.cancel();
            }
            None => {
                // Perhaps read but not started yet: kept for a while, bounded.
                tracing::trace!(%id, "a cancel for no running call");
                if calls.early.len() == EARLY_CANCELS {
                    calls.early.pop_front();
                }
                calls.early.push_back(key);
            }
        }
    }
}

/// A call's registration; dropping it forgets the call.
#[derive(Debug)]
pub(crate) struct Entry<'c> {
    owner: &'c Cancellation,
    key: String,
    token: Arc<Token>,
}

impl Entry<'_> {
    /// Whether the call was cancelled; if not, `task` is woken when it is.
    pub(crate) fn poll_cancelled(&self, task: &mut TaskContext<'_>) -> bool {
        self.token.poll(task)
    }

    /// What tells, once the call has ended, whether its answer is to be left out.
    pub(crate) fn silence(&self) -> Option<Silence> {
        (!self.owner.dialect.answers_cancelled()).then(|| Silence(Arc::clone(&self.token)))
    }
}

/// Tells whether a call was cancelled in a style that sends no answer.
#[derive(Debug)]
pub(crate) struct Silence(Arc<Token>);

impl Silence {
    pub(crate) fn is_silent(&self) -> bool {
        self.0.cancelled.load(Ordering::Acquire)
    }
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        let mut calls = self.owner.lock();
        if calls
            .running
            .get(&self.key)
            .is_some_and(|token| Arc::ptr_eq(token, &self.token))
        {
            calls.running.remove(&self.key);
        }
    }
}

#[derive(Debug, Default)]
struct Token {
    cancelled: AtomicBool,
    /// The call's task, and those awaiting [`CancelToken::cancelled`].
    wakers: Mutex<Vec<Waker>>,
}

impl Token {
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        let wakers =
            std::mem::take(&mut *self.wakers.lock().unwrap_or_else(PoisonError::into_inner));
        wakers.into_iter().for_each(Waker::wake);
    }

    fn poll(&self, task: &mut TaskContext<'_>) -> bool {
        if self.cancelled.load(Ordering::Acquire) {
            return true;
        }
        let mut wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        if !wakers.iter().any(|w| w.will_wake(task.waker())) {
            wakers.push(task.waker().clone());
        }
        drop(wakers);
        // Cancelled while the waker was being set: seen now rather than missed.
        self.cancelled.load(Ordering::Acquire)
    }
}

/// A call's cancellation, for the method to check or await: a method gets it by taking a
/// `CancelToken` parameter. A cancelled call's future is dropped at its next await point
/// anyway; the token is for the work a method hands to another task or thread (a
/// `spawn_blocking` loop checks [`CancelToken::is_cancelled`]), or for a sync stretch
/// between awaits. Over a connection whose caller cannot cancel (no dialect, plain HTTP, a
/// sync method), it is never cancelled.
///
/// ```
/// use rpc_core::{rpc_method, CancelToken};
///
/// /// Sums 0..n on a blocking thread, stopping early once its caller cancels.
/// #[rpc_method]
/// async fn sum(n: u64, cancel: CancelToken) -> Option<u64> {
///     tokio::task::spawn_blocking(move || {
///         let mut total = 0u64;
///         for i in 0..n {
///             if i % 1024 == 0 && cancel.is_cancelled() {
///                 return None;
///             }
///             total = total.wrapping_add(i);
///         }
///         Some(total)
///     })
///     .await
///     .ok()
///     .flatten()
/// }
/// # let _ = sum::method::<()>();
/// ```
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Option<Arc<Token>>);

impl CancelToken {
    /// Whether the call was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|token| token.cancelled.load(Ordering::Acquire))
    }

    /// Resolves once the call is cancelled; never, for a call that cannot be.
    pub async fn cancelled(&self) {
        match &self.0 {
            Some(token) => {
                std::future::poll_fn(|task| {
                    if token.poll(task) {
                        std::task::Poll::Ready(())
                    } else {
                        std::task::Poll::Pending
                    }
                })
                .await
            }
            None => std::future::pending().await,
        }
    }
}

std::thread_local! {
    /// The token of the call being polled, for its `CancelToken` parameter.
    static CURRENT: std::cell::RefCell<Option<Arc<Token>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `poll` with `entry`'s token as the current call's, for the `CancelToken` parameters
/// read while it runs.
pub(crate) fn with_current<R>(entry: Option<&Entry<'_>>, poll: impl FnOnce() -> R) -> R {
    let Some(entry) = entry else {
        return poll();
    };
    let earlier = CURRENT.with(|current| current.replace(Some(Arc::clone(&entry.token))));
    // Put back even if `poll` panics (the dispatcher catches it).
    struct Restore(Option<Arc<Token>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let earlier = self.0.take();
            CURRENT.with(|current| *current.borrow_mut() = earlier);
        }
    }
    let _restore = Restore(earlier);
    poll()
}

/// The current call's token (see [`with_current`]); one never cancelled outside a call that
/// can be.
pub(crate) fn current() -> CancelToken {
    CancelToken(CURRENT.with(|current| current.borrow().clone()))
}

/// The error a cancelled call is answered with: -32800 "Request cancelled".
pub(crate) fn request_cancelled() -> ErrorObject {
    ErrorObject::new(REQUEST_CANCELLED, "Request cancelled")
}

impl<S: Send + Sync + 'static> crate::Router<S> {
    /// Handles at once what must not wait behind calls, if `body` holds only that (one
    /// message, or a batch of them): answers to the requests of the context's
    /// [`Peer`](crate::Peer), and the caller's cancel notifications (with a
    /// [`Cancellation`] in the context). Says whether it did; a body that holds anything
    /// else is left alone, for [`Router::handle_push`](crate::Router::handle_push), which
    /// handles these too. For a transport that reads on while every call's place is taken:
    /// the answer a running call awaits, or the cancel of a running call, must reach it.
    pub fn take_urgent(&self, body: &[u8], cx: &crate::Context<'_>) -> bool {
        use crate::request::{parse_body, Body, Entry};
        let urgent = |entry: &Entry<'_>| match entry {
            Entry::Answer { .. } => cx.peer_handle().is_some(),
            Entry::Call(request) => cx.cancellation().is_some_and(|cancellation| {
                request.id.is_none() && request.method == cancellation.dialect().cancel_method()
            }),
            Entry::Invalid { .. } => false,
        };
        let handle = |entry: Entry<'_>| match (entry, cx.peer_handle(), cx.cancellation()) {
            (
                Entry::Answer {
                    id: Some(id),
                    answer,
                    ..
                },
                Some(peer),
                _,
            ) => peer.deliver(&id, answer),
            (Entry::Call(request), _, Some(cancellation)) => cancellation.cancel(request.params),
            _ => {}
        };
        match parse_body(body, self.batch_limit()) {
            Ok(Body::Single(entry)) if urgent(&entry) => handle(entry),
            Ok(Body::Batch(entries)) if !entries.is_empty() && entries.iter().all(urgent) => {
                entries.into_iter().for_each(handle);
            }
            _ => return false,
        }
        true
    }
}
