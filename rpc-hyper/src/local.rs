//! What a connection's task tells the services it calls: the connection a request came on
//! (its peer and id, for the calls' context), where an answer asks the connection to linger,
//! and where a WebSocket accepted by an answer waits for the socket. A leaf below the
//! connection and the services alike: each reaches the other through it.

use std::future::Future;
use std::sync::Arc;

use rpc_core::{ConnectionId, PeerAddr};
#[cfg(feature = "ws")]
use tokio::sync::OwnedSemaphorePermit;

use crate::control::Control;
#[cfg(feature = "ws")]
use crate::tracked::TrackedIo;

/// The connection a request came on, for the call context: its peer and its id.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Connection {
    pub(crate) peer: PeerAddr,
    pub(crate) id: ConnectionId,
}

/// What a connection's task knows of it, for the services it calls.
struct Local {
    connection: Connection,
    /// Its link to the server, where an answer says the connection must linger.
    control: Arc<Control>,
    /// A WebSocket that a request asked for and its answer accepted: the connection runs it
    /// once hyper has written the answer and let go of the socket.
    #[cfg(feature = "ws")]
    upgrade: std::cell::RefCell<Option<Upgrade>>,
}

tokio::task_local! {
    /// The connection whose task this is. hyper calls a connection's service from that
    /// connection's task (an HTTP/2 stream's future runs on a task of its own, but is made on
    /// the connection's), so a service reads it when called: no allocation, and no change to
    /// the request. Boxed: the task-local is swapped in and out at each poll of the
    /// connection's task, and a pointer is the cheapest thing to swap.
    static CONNECTION: Box<Local>;
}

impl Connection {
    /// The connection being served on this task, if `serve` serves it.
    pub(crate) fn current() -> Option<Self> {
        CONNECTION.try_with(|local| local.connection).ok()
    }

    /// Whether the server of the connection being served on this task has begun its shutdown;
    /// `false` off a served connection.
    pub(crate) fn server_stopping() -> bool {
        CONNECTION
            .try_with(|local| local.control.server_stopping())
            .unwrap_or(false)
    }

    /// Tells the connection being served on this task, if any, that an answer goes out before
    /// its request's body is read: before it closes, the connection reads and drops up to
    /// `bytes` of what the client still sends (see the module docs).
    pub(crate) fn linger_before_close(bytes: usize) {
        let _ = CONNECTION.try_with(|local| local.control.linger(bytes));
    }

    /// Hands `upgrade` to the connection being served on this task, to run on its socket
    /// after the answer. Called only where [`Connection::current`] found one.
    #[cfg(feature = "ws")]
    pub(crate) fn offer_upgrade(upgrade: Upgrade) {
        let taken = CONNECTION.try_with(|local| *local.upgrade.borrow_mut() = Some(upgrade));
        if taken.is_err() {
            tracing::warn!("a WebSocket accepted with no connection to run it");
        }
    }
}

/// The upgrade a request of this connection's asked for, if any.
#[cfg(feature = "ws")]
pub(crate) fn take_upgrade() -> Option<Upgrade> {
    CONNECTION
        .try_with(|local| local.upgrade.borrow_mut().take())
        .ok()
        .flatten()
}

/// Runs `serving` with `connection` as what its task tells the services it calls.
pub(crate) async fn scope(
    connection: Connection,
    control: Arc<Control>,
    serving: impl Future<Output = ()>,
) {
    let local = Local {
        connection,
        control,
        #[cfg(feature = "ws")]
        upgrade: std::cell::RefCell::new(None),
    };
    CONNECTION.scope(Box::new(local), serving).await;
}

/// A WebSocket accepted by its answer, to run on the connection's socket.
#[cfg(feature = "ws")]
pub(crate) struct Upgrade(
    pub(crate) Box<dyn FnOnce(TrackedIo, Option<OwnedSemaphorePermit>) + Send>,
);

#[cfg(feature = "ws")]
impl Upgrade {
    /// Runs the WebSocket on `io`, on a task of its own, holding `slot` until it closes.
    pub(crate) fn start(self, io: TrackedIo, slot: Option<OwnedSemaphorePermit>) {
        (self.0)(io, slot);
    }
}
