//! The WebSocket transport of the client: one connection, many calls in flight correlated by
//! id, subscriptions routed by their id, and reconnection with backoff.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot, watch, Semaphore};

use super::error::{Error, Kind};

mod drive;
mod route;
mod session;

use drive::drive;
pub(crate) use session::Serving;

/// An answer frame's bytes, or why none came.
pub(super) type Answer = Result<Bytes, Error>;

/// A subscription's items as they come, and how its route ended.
pub(super) type Routed = (mpsc::Receiver<Box<RawValue>>, Arc<Ending>);

/// How a subscription's route ends, kept beside its channel (a full buffer cannot lose it).
/// Its address tells a route from a later one under the same id, which a server may give
/// again after a reconnection.
#[derive(Debug)]
pub(super) struct Ending {
    why: OnceLock<End>,
    /// The connection the subscription lives on (the count of [`Transport::connections`]).
    connection: u64,
}

/// Why a subscription's route ended.
#[derive(Debug)]
pub(super) enum End {
    /// The connection was lost: nothing is left to unsubscribe from.
    Lost(String),
    /// The application left [`SUBSCRIPTION_BUFFER`] items untaken.
    FellBehind,
    /// The server ended it, with an end notice.
    Ended {
        reason: String,
        message: Option<String>,
    },
}

impl Ending {
    /// Why the route ended, once it has.
    pub(super) fn why(&self) -> Option<&End> {
        self.why.get()
    }
}

/// A caller waiting for its answer; a subscribe call gets its items' route made before the
/// answer is handed over, so that no item that follows the answer is missed.
#[derive(Debug)]
struct Waiter {
    answered: oneshot::Sender<(Answer, Option<Routed>)>,
    /// For a subscribe call: the method that ends it.
    subscribes: Option<String>,
    /// For a batch: the ids of its calls, ascending; only an array answers it.
    batch: Option<Box<[u64]>>,
}

/// What the driver is asked to write.
#[derive(Debug)]
enum Command {
    /// A call's frame: written only while its caller still waits.
    Call(u64, Vec<u8>),
    /// A frame that awaits no answer.
    Send(Vec<u8>),
    /// An unsubscribe frame: written only on the connection the subscription lives on.
    Unsubscribe { connection: u64, frame: Vec<u8> },
}

impl Command {
    /// The frame it writes.
    fn frame_mut(&mut self) -> &mut Vec<u8> {
        match self {
            Command::Call(_, frame) | Command::Send(frame) | Command::Unsubscribe { frame, .. } => {
                frame
            }
        }
    }
}

/// How many items of one subscription wait for the application before it counts as fallen
/// behind.
const SUBSCRIPTION_BUFFER: usize = 1_024;

/// Sends frames over the connection the driver task keeps.
#[derive(Debug)]
pub(crate) struct Transport {
    /// Frames to write.
    outgoing: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    /// Bounds the calls in flight on the connection.
    in_flight: Arc<Semaphore>,
}

#[derive(Debug)]
struct Shared {
    /// What answers the server's own requests and notifications: the application's router,
    /// or an empty one (every request is then answered -32601).
    router: Arc<dyn Serving>,
    /// Where the routes queue an unsubscribe for a caller that has gone; weak, so that the
    /// driver still ends when every handle to the client is gone.
    replies: mpsc::WeakUnboundedSender<Command>,
    /// The ids of the requests this side sends: the client's calls and its methods' (through
    /// their peer handle) alike, so that the two never give the same.
    ids: Arc<AtomicU64>,
    /// Calls waiting for their answer, by id.
    pending: Mutex<HashMap<u64, Waiter>>,
    /// Subscriptions, by their id's JSON text (`"0x…"` or a number).
    subscriptions: Mutex<HashMap<Box<str>, Route>>,
    /// Counts connections made: the first is 1.
    connected: watch::Sender<u64>,
}

#[derive(Debug)]
struct Route {
    items: mpsc::Sender<Box<RawValue>>,
    ending: Arc<Ending>,
}

impl Route {
    /// Ends the route with `why`; its stream tells the application once the items before it
    /// are taken.
    fn end(self, why: End) {
        let _ = self.ending.why.set(why);
    }
}

/// The settings the transport needs.
pub(super) struct Settings {
    pub(super) url: String,
    /// Sent with the upgrade request.
    pub(super) headers: http::HeaderMap,
    pub(super) max_response_size: usize,
    pub(super) max_in_flight: usize,
    pub(super) max_reconnects: u32,
    pub(super) router: Option<Arc<dyn Serving>>,
    /// The protocol's conventions for cancelling and progress, on the serving side.
    pub(super) dialect: Option<rpc_core::Dialect>,
    /// The client's ids.
    pub(super) ids: Arc<AtomicU64>,
    /// For `wss://`: the roots, or the user's configuration.
    #[cfg(feature = "tls")]
    pub(super) tls: super::tls::Settings,
}

impl Transport {
    /// Starts the driver task (on the current tokio runtime); it connects at once.
    pub(super) fn start(settings: Settings) -> Self {
        let (outgoing, commands) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            router: settings
                .router
                .clone()
                .unwrap_or_else(|| Arc::new(rpc_core::Router::new())),
            replies: outgoing.downgrade(),
            ids: Arc::clone(&settings.ids),
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
        self.exchange(id, frame, None, None).await.0
    }

    /// Sends a batch's frame and waits for the array that answers it: the one that carries
    /// the most of its `ids` (ascending), or, when no array carries any, the only one that
    /// comes while this is the only batch waiting.
    pub(super) async fn batch(&self, ids: &[u64], frame: Vec<u8>) -> Answer {
        let Some(&first) = ids.first() else {
            return self.send(frame).map(|()| Bytes::new());
        };
        self.exchange(first, frame, None, Some(ids.into())).await.0
    }

    /// Sends a subscribe call's frame and waits for its answer, and the route of its items
    /// when it gave an id. Should the caller be gone when the answer comes, the subscription
    /// is ended with `unsubscribe` at once.
    pub(super) async fn subscribe(
        &self,
        id: u64,
        frame: Vec<u8>,
        unsubscribe: &str,
    ) -> (Answer, Option<Routed>) {
        self.exchange(id, frame, Some(unsubscribe.to_owned()), None)
            .await
    }

    async fn exchange(
        &self,
        id: u64,
        frame: Vec<u8>,
        subscribes: Option<String>,
        batch: Option<Box<[u64]>>,
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
                batch,
            },
        );
        // Removed however the wait ends (a timeout drops this future).
        let _forget = Forget(&self.shared, id);
        if self.outgoing.send(Command::Call(id, frame)).is_err() {
            return (Err(closed("the connection gave up reconnecting")), None);
        }
        answer
            .await
            .unwrap_or_else(|_| (Err(closed("the connection gave up reconnecting")), None))
    }

    /// Sends a frame that awaits no answer.
    pub(super) fn send(&self, frame: Vec<u8>) -> Result<(), Error> {
        self.outgoing
            .send(Command::Send(frame))
            .map_err(|_| closed("the connection gave up reconnecting"))
    }

    /// Stops routing the items of subscription `id` (the route `ending` belongs to, not a
    /// later one under the same id) and, unless its connection was lost, sends `frame` to
    /// end it on the server: on its own connection only, never on a later one.
    pub(super) fn unsubscribe(&self, id: &str, ending: &Arc<Ending>, frame: Vec<u8>) {
        {
            let mut subscriptions = lock(&self.shared.subscriptions);
            if subscriptions
                .get(id)
                .is_some_and(|route| Arc::ptr_eq(&route.ending, ending))
            {
                subscriptions.remove(id);
            }
        }
        // Lost, or ended by the server: nothing is left to unsubscribe from.
        if matches!(ending.why(), Some(End::Lost(_) | End::Ended { .. })) {
            return;
        }
        let _ = self.outgoing.send(Command::Unsubscribe {
            connection: ending.connection,
            frame,
        });
    }

    /// A receiver of the count of connections made (1 at the first; each reconnection adds 1).
    pub(super) fn connections(&self) -> watch::Receiver<u64> {
        self.shared.connected.subscribe()
    }
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

/// How long connecting, and writing a frame, may take before the connection counts as lost.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
