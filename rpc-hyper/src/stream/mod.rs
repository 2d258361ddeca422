//! JSON-RPC over byte streams (the `stream` feature): a router served on stdin and stdout
//! (`stdio`), a Unix socket (`ipc`), a TCP socket without HTTP (`tcp`), or any
//! `AsyncRead + AsyncWrite` you already have, such as a child process's pipes, a TLS stream
//! or an in-memory duplex ([`serve`], [`serve_io`]).
//!
//! ```no_run
//! use rpc_core::{rpc_method, Router};
//! use rpc_hyper::stream::{self, Framing};
//!
//! /// Adds two integers.
//! #[rpc_method]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! # #[cfg(feature = "stdio")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut router = Router::new();
//! router.register(add::method())?;
//! // A language server's framing, on stdin and stdout, until stdin closes.
//! stream::stdio(router).framing(Framing::ContentLength).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Every connection runs on the connection engine the WebSocket transport runs on, so the
//! semantics are the WebSocket's, with the same defaults and the same settings on
//! [`StreamServer`]:
//!
//! | | |
//! |---|---|
//! | messages | single calls, batches, notifications (never answered); a message that is not JSON gets -32700 and the connection goes on |
//! | message size | 10 MiB ([`DEFAULT_MAX_BODY_SIZE`](crate::DEFAULT_MAX_BODY_SIZE), [`StreamServer::max_message_size`]); over it, see the framing's row below |
//! | order | requests run concurrently; a notification is handled before any later message starts, so notifications are handled in the order they came; a call of an [ordered](rpc_core::Method::ordered) method (`#[rpc_method(ordered)]`) runs alone, after every earlier message and before any later one ([`rpc_core::Order`]) |
//! | calling back | a method that takes a [`rpc_core::Peer`] sends the other side requests and notifications; while it awaits an answer, the stream is read on even with every call's place taken (up to 1,024 messages held), so that the answer reaches it ([`StreamServer::peer_request_timeout`], [`StreamServer::max_peer_requests`]) |
//! | cancelling and progress | off by default; [`StreamServer::dialect`] speaks LSP's or MCP's conventions: the other side's `$/cancelRequest` (the call is answered -32800) or `notifications/cancelled` (not answered) cancels a call, a request to the other side given up on is cancelled the same way, and a method that takes an `Option<Progress>` ([`rpc_core::Progress`]) reports progress on a request that gave a token |
//! | calls of one connection | run concurrently, at most [`DEFAULT_MAX_CALLS_IN_FLIGHT`](crate::DEFAULT_MAX_CALLS_IN_FLIGHT) at once ([`StreamServer::max_calls_in_flight`]), from messages of at most twice the size limit in all; past either, the stream is not read until answers go out, so a peer that writes faster than the methods answer, or stops reading, costs bounded memory |
//! | subscriptions | as over a WebSocket, in the Ethereum format: an id, then `{"jsonrpc":"2.0","method":NAME,"params":{"subscription":ID,"result":ITEM}}` messages, at most [`rpc_core::DEFAULT_MAX_SUBSCRIPTIONS`] per connection ([`StreamServer::max_subscriptions`]), their queue bounded ([`StreamServer::max_queued`]) |
//! | a peer that takes nothing | a write that does not complete within [`DEFAULT_SEND_TIMEOUT`](crate::DEFAULT_SEND_TIMEOUT) ([`StreamServer::send_timeout`]) ends the connection |
//! | time limit | each message's calls, 30 s ([`StreamServer::request_timeout`]): past it, -32000 for each call |
//! | a method that panics | -32603 for its call; the connection goes on |
//! | the end of the input (stdin closed, the peer's half-close) | the calls in flight are answered and written out, then the connection ends; subscriptions end at once |
//! | graceful shutdown ([`StreamServer::with_graceful_shutdown`]) | subscriptions end at once, calls in flight are answered (within [`StreamServer::drain_timeout`]), then the connection closes |
//! | idle connections | listeners close a connection with no call in flight, no subscription and nothing read for 75 s ([`DEFAULT_KEEP_ALIVE_TIMEOUT`](crate::DEFAULT_KEEP_ALIVE_TIMEOUT), [`StreamServer::idle_timeout`]); stdio and your own streams never, unless told |
//! | connections at once (listeners) | 4,096 ([`DEFAULT_MAX_CONNECTIONS`](crate::DEFAULT_MAX_CONNECTIONS), [`StreamServer::max_connections`]); more wait in the backlog |
//!
//! # Framings
//!
//! | [`Framing`] | a message is | a bad message | default for |
//! |---|---|---|---|
//! | [`Framing::Newline`] | one line: JSON text ended by `\n` or `\r\n`; blank lines are skipped | a line over the limit is dropped as it comes (never held whole) and answered with -32600 and id `null`; a line that is not JSON gets -32700; the next line is read | [`stdio`], [`serve`] |
//! | [`Framing::ContentLength`] | the LSP base protocol's: `Content-Length: N\r\n`, optionally `Content-Type` (any, with `charset=utf-8` or none; another charset is refused), names in any case, `\r\n`, then exactly N bytes | a missing or malformed header, a header part over 8 KiB, another charset, or N over the limit ends the connection, with the reason logged: this framing has no safe way to find the next message | |
//! | [`Framing::Concatenated`] | one JSON object or array, with or without whitespace or newlines between values: `{..}{..}` as geth's and reth's IPC clients send, values split across reads | bytes outside any value are skipped up to the next value or line and answered with -32700; a value over the limit is dropped as it comes and answered with -32600; the next value is read | |
//! | [`Framing::Auto`] | concatenated values, until the first value is followed right away by `\n` or `\r\n`: the peer writes lines, and from then on the connection is newline-delimited | as its framing of the moment | [`serve_tcp`], [`serve_ipc`] |
//!
//! Whatever the framing read, each answer and notification is written as one frame: a line
//! ended by `\n` (newline, concatenated and auto alike, so that line-based and concatenated
//! readers both read it; a raw line end inside the JSON, which only a hand-written `RawValue`
//! result can hold, is written as the space it means), or a `Content-Length` header and the
//! content. Nothing but JSON-RPC messages is ever written to the stream.
//!
//! **Over stdio, stdout is the protocol's.** A method that prints to stdout itself
//! (`println!`) corrupts the stream the client reads: that is a bug in the method. Log to
//! stderr, or through `tracing` with a subscriber writing to stderr.
//!
//! # The call context
//!
//! | transport | in the context |
//! |---|---|
//! | every stream | a [`ConnectionId`](rpc_core::ConnectionId) per connection |
//! | TCP | the peer's address, [`PeerAddr`](rpc_core::PeerAddr) |
//! | Unix socket | the peer's uid, gid and pid, [`PeerCred`](rpc_core::PeerCred), as an extension |

mod codec;
mod connect;
#[cfg(all(feature = "ipc", unix))]
mod ipc;
#[cfg(any(feature = "tcp", all(feature = "ipc", unix)))]
mod listen;
mod peer_settings;
mod serve;
#[cfg(feature = "stdio")]
mod stdio;
mod transport;

pub use connect::{connect, Connection};
#[cfg(all(feature = "ipc", unix))]
pub use ipc::{IpcListener, DEFAULT_IPC_MODE};
#[cfg(all(feature = "ipc", unix))]
pub use listen::serve_ipc;
#[cfg(feature = "tcp")]
pub use listen::serve_tcp;
#[cfg(any(feature = "tcp", all(feature = "ipc", unix)))]
pub use listen::Listener;
pub use serve::{serve, serve_io, Io, StreamServer};
#[cfg(feature = "stdio")]
pub use stdio::{stdio, Stdio};

/// The framings' decoders, for the fuzz targets: not part of the API.
#[doc(hidden)]
pub mod __fuzz {
    pub use super::codec::{frames, Found};
}

/// How a byte stream's messages are delimited. See the [module docs](self#framings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Framing {
    /// One JSON text per line, ended by `\n` (`\r\n` accepted): MCP's stdio transport.
    Newline,
    /// `Content-Length` headers before each message: the LSP base protocol.
    ContentLength,
    /// JSON values one after the other, with no delimiter needed: geth's and reth's IPC.
    /// Reads newline-delimited input too, but a line that is no whole value runs into the
    /// next: for a peer that may write lines, [`Framing::Auto`].
    Concatenated,
    /// Concatenated values, until the first value is followed right away by a line end: the
    /// peer writes lines, and the rest of the connection is newline-delimited (a bad line is
    /// then answered and passed over). The listeners' default: it takes what Ethereum's IPC
    /// clients send, with or without newlines, and what line-based tools send.
    Auto,
}
