//! Progress: a method tells its caller how far a long request has got, when the caller asked
//! for it by giving the request a progress token.
//!
//! The token and the notifications are the connection's [`Dialect`]'s: LSP's `workDoneToken`
//! and `$/progress` (a `begin`, then `report`s, then an `end` sent when the call ends), or
//! MCP's `_meta.progressToken` and `notifications/progress`. A method gets a reporter by
//! taking an `Option<Progress>` parameter: `Some` when the request carried a token, over a
//! connection that speaks a dialect.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::{Context, Dialect, Params, Peer};

/// The longest progress token taken, as JSON text: a request with a longer one gets no
/// reporter (a token is an id, not a payload).
pub const MAX_PROGRESS_TOKEN_LEN: usize = 256;

/// Reports the progress of one call to its caller. Cheap to clone; a clone moved elsewhere
/// stops reporting once the call has ended (or was cancelled): what it reports then is dropped.
///
/// ```
/// use rpc_core::{rpc_method, Progress};
///
/// /// Counts to `n`, telling the caller how far it got.
/// #[rpc_method]
/// async fn count(n: u32, progress: Option<Progress>) -> u32 {
///     for i in 1..=n {
///         if let Some(progress) = &progress {
///             progress.report(f64::from(i), Some(f64::from(n)), Some("counting"));
///         }
///     }
///     n
/// }
/// # let _ = count::method::<()>();
/// ```
#[derive(Clone)]
pub struct Progress(Arc<Inner>);

struct Inner {
    peer: Peer,
    dialect: Dialect,
    /// The token, as the request gave it.
    token: Box<RawValue>,
    /// LSP's `begin` needs a title: the method's name.
    title: &'static str,
    /// An LSP `begin` went out: an `end` is due.
    begun: AtomicBool,
    /// The call has ended: nothing more is sent.
    done: AtomicBool,
}

impl Progress {
    /// Reports `progress` so far, out of `total` if known, with a message. Says whether the
    /// report was queued: it is not once the call has ended, nor when the connection's outbox
    /// is full (a report is news, not a duty: the next one says more).
    pub fn report(&self, progress: f64, total: Option<f64>, message: Option<&str>) -> bool {
        let inner = &self.0;
        if inner.done.load(Ordering::Acquire) {
            return false;
        }
        let mut begun_before = true;
        let params = match inner.dialect {
            Dialect::Lsp => {
                let mut value = Map::new();
                let begun = inner.begun.swap(true, Ordering::AcqRel);
                begun_before = begun;
                if begun {
                    value.insert("kind".into(), "report".into());
                } else {
                    value.insert("kind".into(), "begin".into());
                    value.insert("title".into(), inner.title.into());
                }
                if let Some(total) = total.filter(|total| *total > 0.0) {
                    // LSP's percentage is a whole number from 0 to 100.
                    let percentage = (progress / total * 100.0).clamp(0.0, 100.0).round();
                    value.insert("percentage".into(), json!(percentage as u32));
                }
                if let Some(message) = message {
                    value.insert("message".into(), message.into());
                }
                json!({ "token": &*inner.token, "value": value })
            }
            _ => {
                let mut params = Map::new();
                params.insert("progressToken".into(), raw(&inner.token));
                params.insert("progress".into(), json!(progress));
                if let Some(total) = total {
                    params.insert("total".into(), json!(total));
                }
                if let Some(message) = message {
                    params.insert("message".into(), message.into());
                }
                Value::Object(params)
            }
        };
        let sent = inner
            .peer
            .try_notify(inner.dialect.progress_method(), params)
            .is_ok();
        if !sent && inner.dialect == Dialect::Lsp && !begun_before {
            // The `begin` did not go: the next report begins again.
            inner.begun.store(false, Ordering::Release);
        }
        sent
    }

    /// The token the request gave, as JSON text.
    pub fn token(&self) -> &str {
        self.0.token.get()
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("dialect", &self.0.dialect)
            .field("token", &self.0.token.get())
            .finish_non_exhaustive()
    }
}

/// A token as a JSON value.
fn raw(token: &RawValue) -> Value {
    serde_json::from_str(token.get()).unwrap_or(Value::Null)
}

/// Ends a call's progress when the call ends, however it ends: an LSP `end` goes out if a
/// `begin` did, and later reports are dropped.
#[derive(Debug)]
#[doc(hidden)]
pub struct ProgressGuard(Option<Progress>);

impl Drop for ProgressGuard {
    fn drop(&mut self) {
        let Some(progress) = self.0.take() else {
            return;
        };
        let inner = &progress.0;
        if inner.done.swap(true, Ordering::AcqRel) {
            return;
        }
        if inner.dialect == Dialect::Lsp && inner.begun.load(Ordering::Acquire) {
            let params = json!({ "token": &*inner.token, "value": { "kind": "end" } });
            let _ = inner
                .peer
                .try_notify(inner.dialect.progress_method(), params);
        }
    }
}

/// The reporter of a call whose request carried a progress token, over a connection that
/// speaks a dialect; with the guard that ends it.
pub(crate) fn reporter(
    cx: &Context<'_>,
    params: Params<'_>,
    title: &'static str,
) -> (Option<Progress>, ProgressGuard) {
    let progress = cx.peer_handle().and_then(|peer| {
        let dialect = peer.settings().dialect?;
        let token = token(dialect, params, cx.enclosing_params())?;
        Some(Progress(Arc::new(Inner {
            peer: peer.clone(),
            dialect,
            token,
            title,
            begun: AtomicBool::new(false),
            done: AtomicBool::new(false),
        })))
    });
    (progress.clone(), ProgressGuard(progress))
}

/// The request's progress token, where the dialect puts it: a string or an integer, at most
/// [`MAX_PROGRESS_TOKEN_LEN`] long.
fn token(dialect: Dialect, params: Params<'_>, enclosing: Option<&str>) -> Option<Box<RawValue>> {
    #[derive(Deserialize)]
    struct Lsp<'a> {
        #[serde(borrow, rename = "workDoneToken")]
        token: Option<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct Mcp<'a> {
        #[serde(borrow, rename = "_meta")]
        meta: Option<Meta<'a>>,
    }
    #[derive(Deserialize)]
    struct Meta<'a> {
        #[serde(borrow, rename = "progressToken")]
        token: Option<&'a RawValue>,
    }
    // The request's params, when the call's are only a part of them (an MCP tool's arguments).
    let text = match enclosing {
        Some(enclosing) => enclosing,
        None => params.raw().filter(|text| text.starts_with('{'))?,
    };
    let token = match dialect {
        Dialect::Lsp => serde_json::from_str::<Lsp<'_>>(text).ok()?.token,
        _ => serde_json::from_str::<Mcp<'_>>(text).ok()?.meta?.token,
    }?;
    let text = token.get();
    let kind_ok =
        text.starts_with('"') || text.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    if !kind_ok || text.len() > MAX_PROGRESS_TOKEN_LEN {
        tracing::debug!(
            len = text.len(),
            "a progress token that is no short string or number; no progress"
        );
        return None;
    }
    Some(token.to_owned())
}
