//! Accepting connections, for every listener of the crate (HTTP's, and the stream
//! transports' TCP and Unix-socket ones): at most so many at once, the rest waiting in the
//! backlog; accept errors passed over or paused on; and the drain at shutdown.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::control::{Connections, CLOSE, DRAIN};

/// A listener: what it accepts, and what it knows of each peer.
pub(crate) trait Listen: Send {
    /// A connection.
    type Io: Send + 'static;
    /// What is known of its peer.
    type Peer: Send + 'static;

    /// The next connection.
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Io, Self::Peer)>> + Send;
}

impl Listen for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;
    type Peer = std::net::SocketAddr;

    fn accept(&self) -> impl Future<Output = io::Result<(Self::Io, Self::Peer)>> + Send {
        tokio::net::TcpListener::accept(self)
    }
}

/// Accepts connections on `listener` until `signal` completes, holding a slot of `slots` for
/// each (past the last, connections wait in the backlog), and hands each to `start` with its
/// slot, which it must hold until the connection closes. The listener is closed on return.
pub(crate) async fn accept_until<L: Listen>(
    listener: L,
    slots: &Arc<Semaphore>,
    signal: impl Future<Output = ()>,
    mut start: impl FnMut(L::Io, L::Peer, OwnedSemaphorePermit),
) {
    let mut signal = pin!(signal);
    loop {
        // Take a slot before accepting: past the limit, connections wait in the backlog.
        let slot = match Arc::clone(slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => tokio::select! {
                biased;
                () = &mut signal => break,
                slot = Arc::clone(slots).acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break,
                },
            },
        };
        let (io, peer) = tokio::select! {
            biased;
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
        };
        start(io, peer, slot);
    }
    drop(listener);
}

/// Drains the connections: signals each to finish what it is doing and take nothing more,
/// waits until every slot is back (every connection closed) or `timeout` has passed, then
/// tells the ones left to close.
pub(crate) async fn drain(
    slots: &Semaphore,
    max_connections: usize,
    connections: &Connections,
    timeout: Duration,
) {
    let open = max_connections - slots.available_permits();
    tracing::debug!(open, "stopped accepting; draining");
    connections.signal_all(DRAIN);
    // Every connection holds a slot until it closes: all slots back means all closed.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(timeout, slots.acquire_many(all))
        .await
        .is_err()
    {
        let open = max_connections - slots.available_permits();
        tracing::warn!(open, "drain timed out; closing the connections left");
        connections.signal_all(CLOSE);
    }
}

/// Accept errors that concern one connection are passed over; others (out of file
/// descriptors, say) are logged and the loop pauses, so it does not spin.
async fn accept_failed(err: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %err, "accepting a connection failed; pausing");
    tokio::time::sleep(Duration::from_millis(50)).await;
}
