//! The server's defaults, in one place: every transport's limits and timeouts start here, and
//! each is re-exported at the crate's root. A leaf: the modules that apply them need nothing
//! of one another to know them.

use std::time::Duration;

// The listener and its connections (`Serve`, and the stream listeners).

/// How long a client may take to send a request's headers by default: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How many connections are served at once by default: 4,096.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4_096;

/// How long a connection may sit idle, no request in flight, by default: 75 s.
///
/// Longer than the idle timeout of the balancers most often in front of a server (AWS's
/// load balancers, 60 s; nginx's upstream connections, 60 s), so that it is always the
/// balancer that closes an idle connection. Were the server's the shorter (or the same), it
/// could close one just as the balancer sends a request on it, and the client would get a
/// `502`. Behind a balancer that keeps connections longer (Google Cloud's, 600 s), set it
/// above that balancer's.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(75);

/// Up to how many open connections each keeps its buffers between requests, by default: 1,024.
pub const DEFAULT_KEEP_BUFFERS_UP_TO: usize = 1_024;

/// How long graceful shutdown waits for in-flight requests by default: 30 s.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The listen backlog [`bind`](crate::bind) asks for: 4,096 (the kernel caps it at `net.core.somaxconn`).
pub const DEFAULT_BACKLOG: u32 = 4_096;

// Each HTTP request (`RpcService`), and each message of the other transports.

/// The largest request body accepted by default: 10 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 10 * 1024 * 1024;

/// How long a client may take to send a request body by default: 10 s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one request may take by default, from its body's last byte to its answer: 30 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The code of the error a call gets when its request runs out of time.
pub const TIMEOUT_ERROR_CODE: i32 = -32000;

// Each connection of the engine the WebSocket and stream transports share.

/// How many calls of one connection may run at once by default: 64. Past it, the
/// connection's messages are not read until answers have gone out.
#[cfg(any(feature = "ws", feature = "stream"))]
pub const DEFAULT_MAX_CALLS_IN_FLIGHT: usize = 64;

/// How long a write to a peer may take by default: 10 s. A peer that takes nothing for that
/// long (it stopped reading, and its queue stays full) is disconnected.
#[cfg(any(feature = "ws", feature = "stream"))]
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(10);
