//! The WebSocket transport of the client: one connection, many calls in flight correlated by
//! id, subscriptions routed by their id, and reconnection with backoff.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use super::error::{Error, Kind};

/// An answer frame's bytes, or why none came.
pub(super) type Answer = Result<Bytes, Error>;

/// A subscription's items as they come, and whether it fell behind.
pub(super) type Routed = (mpsc::Receiver<Item>, Arc<AtomicBool>);

/// A caller waiting for its answer; a subscribe call gets its items' route made before the
/// answer is handed over, so that no item that follows the answer is missed.
#[derive(Debug)]
struct Waiter {
    answered: oneshot::Sender<(Answer, Option<Routed>)>,
    subscribes: bool,
}

/// An item of a subscription, as JSON, or the error that ended it.
pub(super) type Item = Result<Box<RawValue>, Error>;

/// How many items of one subscription wait for the application before it counts as fallen
/// behind.
const SUBSCRIPTION_BUFFER: usize = 1_024;

/// The first wait before reconnecting; it doubles, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Sends frames over the connection the driver task keeps.
#[derive(Debug)]
pub(crate) struct Transport {
    outgoing: mpsc::UnboundedSender<Vec<u8>>,
    shared: Arc<Shared>,
    /// Bounds the calls in flight on the connection.
    in_flight: Arc<Semaphore>,
}

#[derive(Debug)]
struct Shared {
    /// Calls waiting for their answer, by id.
    pending: Mutex<HashMap<u64, Waiter>>,
    /// Subscriptions, by their id's JSON text (`"0x…"` or a number).
    subscriptions: Mutex<HashMap<Box<str>, Route>>,
    /// Counts connections made: the first is 1.
    connected: watch::Sender<u64>,
}

#[derive(Debug)]
struct Route {
    items: mpsc::Sender<Item>,
    fell_behind: Arc<AtomicBool>,
}

/// The settings the transport needs.
pub(super) struct Settings {
    pub(super) url: String,
    pub(super) max_response_size: usize,
    pub(super) max_in_flight: usize,
    pub(super) max_reconnects: u32,
}

impl Transport {
    /// Starts the driver task (on the current tokio runtime); it connects at once.
    pub(super) fn start(settings: Settings) -> Self {
        let (outgoing, commands) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            pending: Mutex::default(),
            subscriptions: Mutex::default(),
            connected: watch::Sender::new(0),
        });
        let in_flight = Arc::new(Semaphore::new(settings.max_in_flight.max(1)));
        tokio::spawn(drive(settings, commands, Arc::clone(&shared)));
        Self {
            outgoing,
            shared,
            in_flight,
        }
    }

    /// Sends a call's frame and waits for the frame that answers `id`.
    pub(super) async fn call(&self, id: u64, frame: Vec<u8>) -> Answer {
        self.exchange(id, frame, false).await.0
    }

    /// Sends a subscribe call's frame and waits for its answer, and the route of its items
    /// when it gave an id.
    pub(super) async fn subscribe(&self, id: u64, frame: Vec<u8>) -> (Answer, Option<Routed>) {
        self.exchange(id, frame, true).await
    }

    async fn exchange(
        &self,
        id: u64,
        frame: Vec<u8>,
        subscribes: bool,
    ) -> (Answer, Option<Routed>) {
        let Ok(_slot) = self.in_flight.acquire().await else {
            return (Err(closed("the client is gone")), None);
        };
        let (answered, answer) = oneshot::channel();
        lock(&self.shared.pending).insert(
            id,
            Waiter {
                answered,
                subscribes,
            },
        );
        // Removed however the wait ends (a timeout drops this future).
        let _forget = Forget(&self.shared, id);
        if self.outgoing.send(frame).is_err() {
            return (Err(closed("the connection gave up reconnecting")), None);
        }
        answer
            .await
            .unwrap_or_else(|_| (Err(closed("the connection gave up reconnecting")), None))
    }

    /// Sends a frame that awaits no answer.
    pub(super) fn send(&self, frame: Vec<u8>) -> Result<(), Error> {
        self.outgoing
            .send(frame)
            .map_err(|_| closed("the connection gave up reconnecting"))
    }

    /// Stops routing the items of subscription `id`.
    pub(super) fn unroute(&self, id: &str) {
        lock(&self.shared.subscriptions).remove(id);
    }

    /// A receiver of the count of connections made (1 at the first; each reconnection adds 1).
    pub(super) fn connections(&self) -> watch::Receiver<u64> {
        self.shared.connected.subscribe()
    }
}

/// Routes the items of subscription `id` (its JSON text) to a new receiver.
fn open_route(shared: &Shared, id: &str) -> Routed {
    let (items, received) = mpsc::channel(SUBSCRIPTION_BUFFER);
    let fell_behind = Arc::new(AtomicBool::new(false));
    let route = Route {
        items,
        fell_behind: Arc::clone(&fell_behind),
    };
    lock(&shared.subscriptions).insert(id.into(), route);
    (received, fell_behind)
}

/// Forgets a pending call when its wait ends, answered or not.
struct Forget<'a>(&'a Shared, u64);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        lock(&self.0.pending).remove(&self.1);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn closed(why: &str) -> Error {
    Error::new(Kind::Closed(why.to_owned()))
}

/// Keeps a connection: connects (again, with backoff, after a loss), writes what callers
/// send, routes what comes. Ends when every handle to the client is gone, or after
/// `max_reconnects` failed attempts in a row.
async fn drive(
    settings: Settings,
    mut commands: mpsc::UnboundedReceiver<Vec<u8>>,
    shared: Arc<Shared>,
) {
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .max_message_size(Some(settings.max_response_size))
        .max_frame_size(Some(settings.max_response_size));
    let mut failures = 0u32;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let connected =
            tokio_tungstenite::connect_async_with_config(&settings.url, Some(config), true).await;
        let mut ws = match connected {
            Ok((ws, _)) => ws,
            Err(err) => {
                failures += 1;
                tracing::debug!(error = %err, failures, "the client could not connect");
                if failures > settings.max_reconnects {
                    fail_all(&shared, &format!("could not connect: {err}"));
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        failures = 0;
        backoff = FIRST_BACKOFF;
        shared.connected.send_modify(|count| *count += 1);
        let lost = loop {
            tokio::select! {
                frame = commands.recv() => match frame {
                    // Every handle to the client is gone.
                    None => {
                        let _ = ws.close(None).await;
                        return;
                    }
                    Some(frame) => {
                        let Ok(text) = String::from_utf8(frame) else { continue };
                        if let Err(err) = ws.send(Message::text(text)).await {
                            break err.to_string();
                        }
                    }
                },
                message = ws.next() => match message {
                    Some(Ok(Message::Text(text))) => route(&shared, Bytes::from(text)),
                    Some(Ok(Message::Binary(data))) => route(&shared, data),
                    Some(Ok(Message::Close(frame))) => {
                        break frame.map_or_else(|| "closed".to_owned(), |f| format!("closed: {} {}", u16::from(f.code), f.reason));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(err)) => break err.to_string(),
                    None => break "closed".to_owned(),
                },
            }
        };
        tracing::debug!(why = %lost, "the client's WebSocket was lost; reconnecting");
        fail_all(&shared, &lost);
    }
}

/// Fails every call in flight and ends every subscription with an error item.
fn fail_all(shared: &Shared, why: &str) {
    let pending = std::mem::take(&mut *lock(&shared.pending));
    for (_, waiter) in pending {
        let _ = waiter.answered.send((Err(closed(why)), None));
    }
    let subscriptions = std::mem::take(&mut *lock(&shared.subscriptions));
    for (_, route) in subscriptions {
        let _ = route.items.try_send(Err(closed(why)));
    }
}

/// What a frame from the server holds, read without decoding its result.
#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    #[serde(borrow)]
    params: Option<Note<'a>>,
}

#[derive(Deserialize)]
struct Note<'a> {
    #[serde(borrow)]
    subscription: &'a RawValue,
    #[serde(borrow)]
    result: &'a RawValue,
}

/// Sends a frame where it belongs: an answer to its caller (a batch's to whichever of its
/// calls is waiting), a notification to its subscription. Anything else is dropped.
fn route(shared: &Shared, frame: Bytes) {
    let trimmed = frame.trim_ascii_start();
    if trimmed.first() == Some(&b'[') {
        // A batch's answer: it goes to the batch, waiting under one of its ids.
        let Ok(items) = serde_json::from_slice::<Vec<&RawValue>>(&frame) else {
            return;
        };
        let ids = items.iter().filter_map(|item| {
            let incoming: Incoming<'_> = serde_json::from_str(item.get()).ok()?;
            incoming.id?.get().parse::<u64>().ok()
        });
        let mut pending = lock(&shared.pending);
        for id in ids {
            if let Some(waiter) = pending.remove(&id) {
                drop(pending);
                let _ = waiter.answered.send((Ok(frame), None));
                return;
            }
        }
        return;
    }
    let Ok(incoming) = serde_json::from_slice::<Incoming<'_>>(&frame) else {
        tracing::debug!("the client dropped a frame that is not JSON-RPC");
        return;
    };
    match (incoming.id, incoming.params) {
        (Some(id), _) => {
            let Ok(id) = id.get().parse::<u64>() else {
                tracing::debug!(
                    id = id.get(),
                    "the client dropped an answer for no call of its own"
                );
                return;
            };
            let waiter = lock(&shared.pending).remove(&id);
            let Some(waiter) = waiter else {
                tracing::debug!(id, "the client dropped an answer for no call waiting");
                return;
            };
            // A subscription's route is made before its caller hears the id: the items that
            // follow the answer in the same read are routed, not lost.
            let routed = if waiter.subscribes {
                incoming.result.map(|id| open_route(shared, id.get()))
            } else {
                None
            };
            let _ = waiter.answered.send((Ok(frame), routed));
        }
        (None, Some(note)) => {
            let subscriptions = lock(&shared.subscriptions);
            let Some(route) = subscriptions.get(note.subscription.get()) else {
                tracing::debug!(
                    subscription = note.subscription.get(),
                    "an item for no subscription of the client's"
                );
                return;
            };
            if route.items.try_send(Ok(note.result.to_owned())).is_err() {
                // The application does not keep up: the subscription ends, with an error.
                route.fell_behind.store(true, Ordering::Relaxed);
                drop(subscriptions);
                lock(&shared.subscriptions).remove(note.subscription.get());
            }
        }
        (None, None) => tracing::debug!("the client dropped a frame it did not expect"),
    }
}
