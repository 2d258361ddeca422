//! Where each frame from the server goes: an answer to the caller waiting for it (a batch's
//! to the batch that sent most of its ids), a notification to its subscription, and the
//! server's own requests and notifications to the engine, for the client's router.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::{lock, Command, End, Ending, Route, Routed, Shared, Waiter, SUBSCRIPTION_BUFFER};

/// Routes the items of subscription `id` (its JSON text) to a new receiver.
fn open_route(shared: &Shared, id: &str) -> Routed {
    let (items, received) = mpsc::channel(SUBSCRIPTION_BUFFER);
    let ending = Arc::new(Ending {
        why: OnceLock::new(),
        connection: *shared.connected.borrow(),
    });
    let route = Route {
        items,
        ending: Arc::clone(&ending),
    };
    if let Some(earlier) = lock(&shared.subscriptions).insert(id.into(), route) {
        earlier.end(End::Lost(
            "the server gave its id to a new subscription".into(),
        ));
    }
    (received, ending)
}

/// What a frame from the server holds, read without decoding its result.
#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    method: Option<&'a RawValue>,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Note<'a> {
    #[serde(borrow)]
    subscription: &'a RawValue,
    /// Present, `null` included (an item may be `null`); absent in an end notice.
    #[serde(borrow, default)]
    result: Present<'a>,
    /// A server's end notice (`rpc_core::Method::end_notice`): the last of the subscription.
    end: Option<NoteEnd>,
}

/// A member that may be absent, where `null` counts as present.
#[derive(Default)]
struct Present<'a>(Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Present<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(de).map(|raw| Present(Some(raw)))
    }
}

#[derive(Deserialize)]
struct NoteEnd {
    reason: String,
    message: Option<String>,
}

/// Sends a frame where it belongs: an answer to its caller (a batch's to the waiting batch
/// that sent most of its ids), a notification to its subscription; the server's requests and
/// notifications (a batch of them too), and answers to no call of the client's (those to its
/// methods' peer handle), are handed back for the engine. Anything else is dropped.
pub(super) fn route(shared: &Shared, frame: Bytes) -> Option<Bytes> {
    let trimmed = frame.trim_ascii_start();
    if trimmed.first() == Some(&b'[') {
        let Ok(items) = serde_json::from_slice::<Vec<&RawValue>>(&frame) else {
            tracing::debug!("the client dropped a frame that is not JSON");
            return None;
        };
        let mut theirs = false;
        let ids: Vec<u64> = items
            .iter()
            .filter_map(|item| {
                let incoming: Incoming<'_> = serde_json::from_str(item.get()).ok()?;
                theirs |= incoming.method.is_some();
                incoming.id?.get().parse::<u64>().ok()
            })
            .collect();
        if theirs {
            return Some(frame);
        }
        let mut pending = lock(&shared.pending);
        // The batch that sent most of the ids in the answer; an answer without any id (a
        // server that could not tell them) goes to the only batch waiting.
        let carried = |batch: &[u64]| {
            ids.iter()
                .filter(|id| batch.binary_search(id).is_ok())
                .count()
        };
        let best = pending
            .iter()
            .filter_map(|(key, waiter)| Some((carried(waiter.batch.as_deref()?), *key)))
            .max()
            .filter(|&(count, _)| count > 0)
            .map(|(_, key)| key)
            .or_else(|| {
                ids.is_empty()
                    .then(|| sole(&pending, |waiter| waiter.batch.is_some()))
                    .flatten()
            });
        let Some(waiter) = best.and_then(|key| pending.remove(&key)) else {
            tracing::debug!("the client dropped a batch answer for no batch waiting");
            return None;
        };
        drop(pending);
        let _ = waiter.answered.send((Ok(frame), None));
        return None;
    }
    let Ok(incoming) = serde_json::from_slice::<Incoming<'_>>(&frame) else {
        tracing::debug!("the client dropped a frame that is not JSON-RPC");
        return None;
    };
    // A subscription's item; or a request or notification of the server's own, for the
    // client's router (its ids are the server's, never taken for an answer's).
    // By name only: `[1, 2]` would read as a `Note` by position.
    let note = incoming
        .params
        .filter(|params| params.get().starts_with('{'))
        .and_then(|params| serde_json::from_str::<Note<'_>>(params.get()).ok())
        .filter(|note| note.result.0.is_some() || note.end.is_some());
    if incoming.method.is_some() && (note.is_none() || incoming.id.is_some()) {
        return Some(frame);
    }
    match (incoming.id, note) {
        // A null id reads as none.
        (None, None) if incoming.error.is_some() => {
            // The server could not read a frame: the error is the only waiting caller's, if
            // one alone waits; otherwise no one can tell whose it is. (A request of the
            // methods' peer handle cannot be told from a call here: the error goes to the
            // call, and the request waits for its time limit.)
            let mut pending = lock(&shared.pending);
            let Some(waiter) = sole(&pending, |_| true).and_then(|key| pending.remove(&key)) else {
                tracing::debug!("the client dropped an answer with a null id");
                return None;
            };
            drop(pending);
            let _ = waiter.answered.send((Ok(frame), None));
        }
        (Some(id), _) => {
            let Ok(id) = id.get().parse::<u64>() else {
                tracing::debug!(
                    id = id.get(),
                    "the client dropped an answer for no call of its own"
                );
                return None;
            };
            let waiter = lock(&shared.pending).remove(&id);
            let Some(waiter) = waiter else {
                // Its methods' peer handle may await it; if not, the engine drops it.
                return Some(frame);
            };
            // A subscription's route is made before its caller hears the id: the items that
            // follow the answer in the same read are routed, not lost.
            let subscribed = waiter.subscribes.as_ref().zip(incoming.result);
            let routed = subscribed.map(|(_, id)| open_route(shared, id.get()));
            let unsubscribe = subscribed.map(|(method, id)| (method.clone(), id.get().to_owned()));
            if waiter.answered.send((Ok(frame), routed)).is_err() {
                // The caller has gone: its subscription is ended, not left pushing.
                if let Some((method, id)) = unsubscribe {
                    lock(&shared.subscriptions).remove(id.as_str());
                    let body = format!(
                        r#"{{"jsonrpc":"2.0","method":{},"params":[{id}]}}"#,
                        serde_json::to_string(&method).unwrap_or_default()
                    );
                    if let Some(replies) = shared.replies.upgrade() {
                        let _ = replies.send(Command::Unsubscribe {
                            connection: *shared.connected.borrow(),
                            frame: body.into_bytes(),
                        });
                    }
                }
            }
        }
        (None, Some(note)) => {
            let subscriptions = lock(&shared.subscriptions);
            let Some(route) = subscriptions.get(note.subscription.get()) else {
                // An item after its subscription ended (or of none): not for the router.
                tracing::debug!(
                    subscription = note.subscription.get(),
                    "an item for no subscription of the client's"
                );
                return None;
            };
            let Some(result) = note.result.0 else {
                // The server ended it, and says why: the stream ends with that reason.
                drop(subscriptions);
                let end = note.end.unwrap_or(NoteEnd {
                    reason: "completed".to_owned(),
                    message: None,
                });
                if let Some(route) = lock(&shared.subscriptions).remove(note.subscription.get()) {
                    route.end(End::Ended {
                        reason: end.reason,
                        message: end.message,
                    });
                }
                return None;
            };
            if route.items.try_send(result.to_owned()).is_err() {
                // The application does not keep up: the subscription ends, with an error.
                drop(subscriptions);
                if let Some(route) = lock(&shared.subscriptions).remove(note.subscription.get()) {
                    route.end(End::FellBehind);
                }
            }
        }
        (None, None) => tracing::debug!("the client dropped a frame it did not expect"),
    }
    None
}

/// The key of the only waiter that `fits`, if exactly one does.
fn sole(pending: &HashMap<u64, Waiter>, fits: impl Fn(&Waiter) -> bool) -> Option<u64> {
    let mut fitting = pending.iter().filter(|(_, waiter)| fits(waiter));
    match (fitting.next(), fitting.next()) {
        (Some((&key, _)), None) => Some(key),
        _ => None,
    }
}
