//! The WebSocket's settings on the endpoint: each upgraded connection runs on the engine with
//! them.

use std::time::Duration;

use super::RpcService;

impl<S: Send + Sync + 'static> RpcService<S> {
    /// Lets a browser page from `origin` (`https://app.example.com`, as browsers send it in
    /// `Origin`) open a WebSocket to the endpoint; pages from other origins get `403`, and
    /// clients that send no `Origin` (not browsers) are always let in. Call it once per origin.
    #[must_use]
    pub fn allow_origin(mut self, origin: &str) -> Self {
        self.config_mut().ws.allowed_origins.push(origin.into());
        self
    }

    /// Sets how many calls of one WebSocket connection may run at once
    /// ([`DEFAULT_MAX_CALLS_IN_FLIGHT`](crate::DEFAULT_MAX_CALLS_IN_FLIGHT) by default, at
    /// least 1). Past it, the connection's next messages are not read until answers have gone
    /// out, so a client that sends without reading cannot grow the server's memory.
    #[must_use]
    pub fn max_calls_in_flight(mut self, calls: usize) -> Self {
        self.config_mut().ws.engine.max_calls_in_flight = calls.max(1);
        self
    }

    /// Sets how long a WebSocket connection may be quiet before it is pinged
    /// ([`DEFAULT_PING_INTERVAL`](crate::DEFAULT_PING_INTERVAL) by default); one that stays
    /// quiet for as long again is closed (1001).
    #[must_use]
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.config_mut().ws.engine.liveness = crate::engine::Liveness::Ping(interval);
        self
    }

    /// Sets the longest a write to a WebSocket client may take
    /// ([`DEFAULT_SEND_TIMEOUT`](crate::DEFAULT_SEND_TIMEOUT) by default). A client that takes
    /// no frame for that long (it stopped reading: answers wait, its subscriptions' queue stays
    /// full) is disconnected with close code 1008, and every other client goes on.
    #[must_use]
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.config_mut().ws.engine.send_timeout = timeout;
        self
    }

    /// Sets how many subscriptions one WebSocket connection may hold at once
    /// ([`rpc_core::DEFAULT_MAX_SUBSCRIPTIONS`], 1,024, by default); one more is answered with
    /// error -32010 "Too many subscriptions", and the others go on.
    #[must_use]
    pub fn max_subscriptions(mut self, subscriptions: usize) -> Self {
        let ws = &mut self.config_mut().ws;
        ws.engine.outbox = ws.engine.outbox.max_subscriptions(subscriptions);
        self
    }

    /// Sets how many notifications, and how many bytes of them, one WebSocket connection's
    /// queue holds before its subscriptions wait to send
    /// ([`rpc_core::DEFAULT_MAX_QUEUED`], 1,024, and [`rpc_core::DEFAULT_MAX_QUEUED_BYTES`],
    /// 1 MiB, by default).
    #[must_use]
    pub fn max_queued(mut self, notifications: usize, bytes: usize) -> Self {
        let ws = &mut self.config_mut().ws;
        ws.engine.outbox = ws.engine.outbox.max_queued(notifications, bytes);
        self
    }

    /// Sets how long a request a method sends its WebSocket client
    /// ([`rpc_core::Peer::request`]) waits for the answer by default
    /// ([`rpc_core::DEFAULT_PEER_REQUEST_TIMEOUT`], 30 s); a request may set its own. `None`
    /// sets no limit.
    #[must_use]
    pub fn peer_request_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        let ws = &mut self.config_mut().ws;
        ws.engine.peer = ws.engine.peer.request_timeout(timeout.into());
        self
    }

    /// Sets how many requests the methods of one WebSocket connection may have sent its
    /// client and await the answers of at once ([`rpc_core::DEFAULT_MAX_PEER_REQUESTS`], 64,
    /// by default); one more waits for room.
    #[must_use]
    pub fn max_peer_requests(mut self, requests: usize) -> Self {
        let ws = &mut self.config_mut().ws;
        ws.engine.peer = ws.engine.peer.max_requests_in_flight(requests);
        self
    }

    /// Speaks a protocol's conventions for cancelling and progress over the WebSocket, as
    /// [`StreamServer::dialect`](crate::stream::StreamServer::dialect) describes. Off by
    /// default.
    #[must_use]
    pub fn dialect(mut self, dialect: impl Into<Option<rpc_core::Dialect>>) -> Self {
        let dialect = dialect.into();
        let ws = &mut self.config_mut().ws;
        ws.engine.dialect = dialect;
        ws.engine.peer = ws.engine.peer.dialect(dialect);
        self
    }
}
