//! A stream server's settings for calling back: the requests its methods send the other
//! side, and the dialect (LSP's or MCP's) its cancelling and progress speak.

use std::time::Duration;

use super::serve::StreamServer;

impl<K, S: Send + Sync + 'static> StreamServer<K, S> {
    /// Sets how long a request a method sends its peer ([`rpc_core::Peer::request`]) waits
    /// for the answer by default
    /// ([`DEFAULT_PEER_REQUEST_TIMEOUT`](rpc_core::DEFAULT_PEER_REQUEST_TIMEOUT)); a request
    /// may set its own. `None` sets no limit.
    pub fn peer_request_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.engine.peer = self.settings.engine.peer.request_timeout(timeout.into());
        self
    }

    /// Sets how many requests the methods of one connection may have sent its peer and await
    /// the answers of at once ([`DEFAULT_MAX_PEER_REQUESTS`](rpc_core::DEFAULT_MAX_PEER_REQUESTS)
    /// by default); one more waits for room.
    pub fn max_peer_requests(mut self, requests: usize) -> Self {
        self.settings.engine.peer = self.settings.engine.peer.max_requests_in_flight(requests);
        self
    }

    /// Speaks the conventions of a protocol built on JSON-RPC ([`rpc_core::Dialect`]: LSP's
    /// or MCP's) for cancelling and progress. Off by default: the protocols' notifications
    /// are then calls as any other. With a dialect:
    /// - the other side cancels a call it sent with its cancel notification (LSP's
    ///   `$/cancelRequest`: the call is answered -32800; MCP's `notifications/cancelled`: it
    ///   is not answered); the call's future is dropped at its next await point;
    /// - a request a method sent the other side ([`rpc_core::Peer::request`]) and gave up on
    ///   (its future dropped, or timed out) is cancelled the same way;
    /// - a method that takes an `Option<Progress>` ([`rpc_core::Progress`]) reports progress
    ///   on a request that carried a progress token.
    ///
    /// ```
    /// use rpc_core::{rpc_method, Dialect, Progress, Router};
    /// use rpc_hyper::stream;
    /// use std::future::IntoFuture;
    /// use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    ///
    /// /// Reports a step, then waits until told to stop.
    /// #[rpc_method]
    /// async fn work(progress: Option<Progress>) -> bool {
    ///     if let Some(progress) = &progress {
    ///         progress.report(1.0, Some(2.0), Some("halfway"));
    ///     }
    ///     std::future::pending::<()>().await;
    ///     true
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.register(work::method())?;
    /// let (ours, theirs) = tokio::io::duplex(4096);
    /// tokio::spawn(stream::serve_io(theirs, router).dialect(Dialect::Lsp).into_future());
    ///
    /// let (read, mut write) = tokio::io::split(ours);
    /// let mut lines = BufReader::new(read).lines();
    /// write.write_all(br#"{"jsonrpc":"2.0","method":"work","params":{"workDoneToken":"w"},"id":1}
    /// "#).await?;
    /// // The progress, in LSP's words: a `begin` first.
    /// assert_eq!(
    ///     lines.next_line().await?.as_deref(),
    ///     Some(r#"{"jsonrpc":"2.0","method":"$/progress","params":{"token":"w","value":{"kind":"begin","message":"halfway","percentage":50,"title":"work"}}}"#)
    /// );
    /// // The caller gives up: the call is dropped, its progress ends, and it is answered -32800.
    /// write.write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":1}}\n").await?;
    /// assert_eq!(
    ///     lines.next_line().await?.as_deref(),
    ///     Some(r#"{"jsonrpc":"2.0","method":"$/progress","params":{"token":"w","value":{"kind":"end"}}}"#)
    /// );
    /// assert_eq!(
    ///     lines.next_line().await?.as_deref(),
    ///     Some(r#"{"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":1}"#)
    /// );
    /// # Ok(()) }
    /// ```
    pub fn dialect(mut self, dialect: impl Into<Option<rpc_core::Dialect>>) -> Self {
        let dialect = dialect.into();
        self.settings.engine.dialect = dialect;
        self.settings.engine.peer = self.settings.engine.peer.dialect(dialect);
        self
    }

    /// Sets whether a message may be a batch (a JSON array): yes by default, as JSON-RPC 2.0
    /// has them. A protocol that removed them (MCP, since 2025-06-18) refuses them: each batch
    /// is answered -32600 "Invalid Request" with id `null`, and the connection goes on.
    pub fn batches(mut self, allowed: bool) -> Self {
        self.settings.engine.batches = allowed;
        self
    }
}
