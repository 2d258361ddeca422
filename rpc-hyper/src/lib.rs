//! Serve a JSON-RPC 2.0 [`Router`](rpc_core::Router) over HTTP with hyper: three lines for a
//! server that is correct, fast and hard to knock over.
//!
//! ```no_run
//! use rpc_core::{rpc_method, Router};
//!
//! /// Adds two integers.
//! #[rpc_method]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let mut router = Router::new();
//!     router.register(add::method())?;
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     rpc_hyper::serve(listener, router)
//!         .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.ok(); })
//!         .await?;
//!     Ok(())
//! }
//! ```
//!
//! HTTP/1.1 (keep-alive, pipelining) is served, and with the `http2` feature HTTP/2 over
//! cleartext with prior knowledge (h2c) on the same port; TCP_NODELAY is on. [`RpcService`] is
//! the endpoint on its own, a hyper and tower `Service`, to mount inside axum or any tower
//! stack (CORS, authentication, compression from tower-http).
//!
//! # Feature flags
//!
//! The default build is the one most servers need, and costs little more to compile than a
//! server written by hand with hyper and serde (`scripts/build-cost.sh` measures it; the
//! README's Performance section has the figures). Each capability past it is a feature of
//! its own, off by default: a feature left off adds no dependency, no bound on your types and
//! no generated code.
//!
//! | feature | default | what it adds | what it brings into the build |
//! |---|---|---|---|
//! | (none) | | the HTTP/1.1 server: [`serve`], [`RpcService`] | hyper (`http1`, `server`), hyper-util (`tokio`), tokio, tracing, tower-service |
//! | `http2` | off | h2c with prior knowledge, on the same port as HTTP/1.1 | hyper's `http2`: h2, indexmap, hashbrown, tokio-util and a few more |
//! | `ws` | off | WebSocket on the RPC path, on the same port (see [WebSocket](#websocket)); with `client`, the client's WebSocket transport | tokio-tungstenite (without TLS), futures-util, sha1 and a few more |
//! | `tls` | off | the server serves TLS ([`Serve::tls`], the `tls` module: HTTP/1.1, h2 by ALPN and `wss://` on one port, a handshake time limit, rotation, client certificates in the context; the stream transport's TCP listener too); with `client`, `https://` and (with `ws`) `wss://` URLs: the Mozilla roots compiled in beside the builder's own (`add_root_certificate`), or the user's own `rustls::ClientConfig` (`tls_config`). rustls on ring (named explicitly, never the process default), TLS 1.3 and 1.2, X25519 first | rustls, ring, webpki-roots, tokio-rustls (15 crates) |
//! | `tls-native-roots` | off | with `client` and `tls`, the platform's trust store (read once, with rustls-native-certs) beside the compiled-in roots | rustls-native-certs, openssl-probe |
//! | `proxy-protocol` | off | the PROXY protocol, versions 1 and 2, on HTTP listeners when `Serve::proxy_protocol` asks: the client's address from a balancer that passes connections through, read before TLS | none |
//! | `client` | off | the client (see the `client` module): calls, notifications, batches over HTTP/1.1 or h2c, and with `ws` over a WebSocket with subscriptions; rpc-core's `client` (the typed stubs) | serde, serde_json; hyper's client side (want, try-lock), which h2c uses (HTTP/1.1 is the client's own exchange, on httparse, hyper's parser) |
//! | `stream` | off | a router over any byte stream, `AsyncRead + AsyncWrite` (see the `stream` module): newline-delimited, `Content-Length` or concatenated JSON | tokio-util (its codecs only), futures-util |
//! | `stdio` | off | `stream` on stdin and stdout (`stream::stdio`) | tokio's `io-std` |
//! | `ipc` | off | `stream` on a Unix-socket listener (`stream::serve_ipc`, `stream::IpcListener`), the peer's credentials in the context | nothing more than `stream` |
//! | `tcp` | off | `stream` on a TCP listener, without HTTP (`stream::serve_tcp`) | nothing more than `stream` |
//!
//! The WebSocket and the byte streams run every connection on one connection engine
//! (`src/engine/`): reading messages, running their calls concurrently within a bound,
//! writing the answers and the subscriptions' notifications, liveness, drain and the slow
//! reader are one piece of code; a transport only says how a message is read and written.
//!
//! Why `http2` is off: the clients of JSON-RPC services (curl, browsers, Python's requests,
//! Ethereum libraries, most Rust HTTP clients over `http://`) speak HTTP/1.1 to a cleartext
//! endpoint, and the h2 stack is the largest part of a clean build that most servers never
//! use. Without the feature, a client that opens with the HTTP/2 preface is answered in
//! HTTP/2's own terms, a `GOAWAY` with the error `HTTP_1_1_REQUIRED`, so it says why it was
//! turned away. TLS is the `tls` feature's ([`Serve::tls`]; there ALPN negotiates h2), or
//! terminate it in front, in a proxy.
//!
//! In `rpc-core`, the `macros` feature (on by default) brings the `#[rpc_method]` attribute.
//!
//! # HTTP semantics
//!
//! | request | response |
//! |---|---|
//! | `POST` with a JSON-RPC body that gets an answer (a result, an error, a parse error) | `200 OK`, `Content-Type: application/json` |
//! | `POST` with nothing to answer (a notification, a batch of notifications) | `204 No Content`, empty body |
//! | a method other than `POST` on the RPC path | `405 Method Not Allowed`, `Allow: POST` |
//! | another path | `404 Not Found`, when [`serve`] serves the endpoint on its own (mounted in another router, the endpoint answers whatever path that router routes to it) |
//! | `Content-Type` not `application/json` or `application/json-rpc` (any `charset`), or none | `415 Unsupported Media Type` |
//! | a body over the limit, by `Content-Length` or chunked | `413 Payload Too Large`, no more than the limit read for the request; over HTTP/1 the connection then closes, after reading and dropping what the client still sends of its body (up to twice the limit, 1 MiB at least, while bytes keep coming within 2 s, 10 s in all), so a client still writing reads the 413 instead of a reset; the same after a `404`, `405` or `415` given before a body was read |
//! | a body that cannot be read (the client vanished, broken chunking) | `400 Bad Request` |
//! | a body that does not arrive within the body timeout | `408 Request Timeout`, connection closed |
//! | a request past its time limit | `200` with error -32000 "Request timed out" for each call |
//! | a result larger than the body size limit | error -32008 "Result too large" for that call |
//! | `GET` with `Upgrade: websocket` on the RPC path (`ws` feature) | `101 Switching Protocols`: see [WebSocket](#websocket) |
//!
//! Requiring a JSON content type also keeps browsers from sending cross-site "simple"
//! requests: a page on another origin cannot post JSON here without a CORS preflight, and
//! CORS is off unless you add it.
//!
//! # WebSocket
//!
//! With the `ws` feature, a `GET` with `Upgrade: websocket` on the RPC path becomes a
//! WebSocket connection, for [`serve`] and for the endpoint mounted elsewhere alike (other
//! paths keep `404`, a plain `GET` keeps `405`). Every request of the HTTP contract gets the
//! same answer as a text frame: single calls, batches, notifications (no answer), -32700 for
//! invalid JSON with the connection kept open; a binary frame holding JSON is answered as
//! text. The call context is filled once per connection, from the upgrade request.
//!
//! | | |
//! |---|---|
//! | calls of one connection | run concurrently, at most [`DEFAULT_MAX_CALLS_IN_FLIGHT`] at once ([`RpcService::max_calls_in_flight`]), and from messages of at most twice the message size limit in all; past either, the connection is not read until answers go out, except while a call awaits the client's answer or may be cancelled: then up to 1,024 messages are read and held (within the byte budget), answers and cancels taking effect at once |
//! | message size | the body size limit ([`RpcService::max_body_size`]); over it, close code 1009 |
//! | a text frame that is not UTF-8 / a protocol violation | close code 1007 / 1002 |
//! | `Origin` header | a browser's upgrade from an origin not allowed ([`RpcService::allow_origin`]) gets `403`: a page elsewhere cannot reach a server on the user's machine; clients that send no `Origin` are let in |
//! | graceful shutdown | subscriptions end at once, calls in flight are answered, then close code 1001 |
//! | liveness | the server answers pings; it pings a connection quiet for [`DEFAULT_PING_INTERVAL`] ([`RpcService::ping_interval`]) and closes it (1001) when it stays quiet as long again |
//! | a client that takes no frame | a write that does not complete within [`DEFAULT_SEND_TIMEOUT`] (10 s, [`RpcService::send_timeout`]) closes the connection with 1008: a client that sends without reading, or stops reading its subscriptions, cannot hold it, and every other client goes on |
//! | subscriptions per connection | [`rpc_core::DEFAULT_MAX_SUBSCRIPTIONS`] (1,024, [`RpcService::max_subscriptions`]); one more is answered -32010 "Too many subscriptions", the others go on |
//! | notifications waiting to be written, per connection | [`rpc_core::DEFAULT_MAX_QUEUED`] (1,024) and [`rpc_core::DEFAULT_MAX_QUEUED_BYTES`] (1 MiB) ([`RpcService::max_queued`]); past either, a subscription's `send` waits; a [`Broadcast`](rpc_core::Broadcast)'s items may fill it to twice that, past which its connection is closed with 1008 |
//! | time limit | each message's calls, like an HTTP request's ([`RpcService::request_timeout`]): past it, -32000 for each call |
//! | idle timeout | not the keep-alive timeout of HTTP: a WebSocket's liveness is its pings |
//!
//!
//! ## Subscriptions
//!
//! A subscription method (`#[rpc_subscription]`, see `rpc_core::rpc_subscription`) answers with
//! an id, then pushes notifications `{"jsonrpc":"2.0","method":NAME,"params":{"subscription":ID,"result":ITEM}}`
//! over the WebSocket until the client unsubscribes, the connection closes or the method
//! ends. The answer with the id always goes before the first item: the method starts only once
//! it is written. The subscriptions of a connection run on its task, beside its calls, and
//! its notifications wait in one bounded queue per connection (`rpc_core::Outbox`), written
//! out together. Over HTTP, a subscribe call is answered with error -32009, "Subscriptions
//! need a WebSocket connection".
//!
//! # The call context
//!
//! Every call of a request, each call of a batch alike, is handled with one
//! [`rpc_core::Context`], filled once per request without copying; a method reads it with
//! `Ext<'_, T>` parameters or a `&Context<'_>` parameter (see `rpc_core::Ext`).
//!
//! | in the context | type | where it comes from |
//! |---|---|---|
//! | the request's extensions | any type a layer inserted, by its type | the request's own `http::Extensions`: what a tower layer in front of the endpoint inserted (the authenticated user, say), and axum's `ConnectInfo<SocketAddr>` when axum serves with connect info |
//! | the request's headers | `rpc_core::HeaderMap` | the request's header map |
//! | the HTTP version | `rpc_core::Version` | HTTP/1.0, HTTP/1.1, or HTTP/2 (h2c) |
//! | the peer's address | `rpc_core::PeerAddr` | the TCP peer, when the connection is served by [`serve`] or [`serve_service`] (also when the endpoint is mounted inside another service they serve) |
//! | the connection | `rpc_core::ConnectionId` | one per TCP connection served by [`serve`] or [`serve_service`]: the calls of every request on a kept-alive connection share it |
//! | the client's certificate | `tls::ClientCertificate` | a TLS client's verified certificate chain (the `tls` feature, with client certificates asked for): an extension of each request, so tower layers see it too |
//!
//! ```no_run
//! use rpc_core::{rpc_method, Ext, HeaderMap, PeerAddr, Router};
//!
//! /// Who calls, and with which request id.
//! #[rpc_method]
//! fn whence(peer: Option<Ext<'_, PeerAddr>>, headers: Ext<'_, HeaderMap>) -> String {
//!     let id = headers.get("x-request-id").and_then(|v| v.to_str().ok());
//!     format!("{:?} from {:?}", id, peer.map(|peer| peer.0))
//! }
//!
//! # async {
//! let mut router = Router::new();
//! router.register(whence::method())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! rpc_hyper::serve(listener, router).await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # };
//! ```
//!
//! # Limits and timeouts
//!
//! | setting | default | where |
//! |---|---|---|
//! | body size | 10 MiB ([`DEFAULT_MAX_BODY_SIZE`]) | [`RpcService::max_body_size`] |
//! | body timeout (slow bodies) | 10 s ([`DEFAULT_BODY_TIMEOUT`]) | [`RpcService::body_timeout`] |
//! | request time limit | 30 s ([`DEFAULT_REQUEST_TIMEOUT`]) | [`RpcService::request_timeout`] |
//! | header read timeout | 10 s ([`DEFAULT_HEADER_READ_TIMEOUT`]) | [`Serve::header_read_timeout`] |
//! | concurrent connections | 4,096 ([`DEFAULT_MAX_CONNECTIONS`]); more wait in the backlog | [`Serve::max_connections`] |
//! | keep-alive idle timeout | 75 s, above common load balancers' 60 s ([`DEFAULT_KEEP_ALIVE_TIMEOUT`]) | [`Serve::keep_alive_timeout`] |
//! | graceful shutdown drain | 30 s ([`DEFAULT_DRAIN_TIMEOUT`]) | [`Serve::drain_timeout`] |
//! | TLS handshake (the `tls` feature), counted against the connection limit | 10 s (`tls::DEFAULT_HANDSHAKE_TIMEOUT`) | `tls::ServerTls::handshake_timeout` |
//! | connections that keep their buffers while idle | 1,024 ([`DEFAULT_KEEP_BUFFERS_UP_TO`]); past it, idle connections park (about 2 KiB each instead of 17) | [`Serve::keep_buffers_up_to`] |
//! | batch length | 1,000 calls | `rpc_core::Router::max_batch_len` |
//!
//! # Observability
//! Each request runs in a `tracing` span (`rpc_request`, with the HTTP method and path) and
//! logs its status and duration at debug level; each call runs in a span of its own
//! (`rpc_call`, with its method, id, duration and outcome) at debug level. Timeouts and accept failures log at warn, method panics at error.
//! Nothing is printed unless you install a subscriber.

mod accept;
#[cfg(feature = "client")]
pub mod client;
mod connection;
mod control;
mod defaults;
#[cfg(any(feature = "client", feature = "stdio", feature = "tls"))]
mod either_io;
#[cfg(any(feature = "ws", feature = "stream"))]
mod engine;
mod forwarded;
mod h2c;
mod head;
mod http;
mod local;
#[cfg(feature = "proxy-protocol")]
mod proxy;
mod response;
mod serve;
mod served;
#[cfg(feature = "stream")]
pub mod stream;
#[cfg(feature = "tls")]
pub mod tls;
mod tracked;
mod wire;
#[cfg(feature = "ws")]
mod ws;

#[cfg(feature = "client")]
pub use client::{Client, ClientBuilder};
pub use defaults::{
    DEFAULT_BACKLOG, DEFAULT_BODY_TIMEOUT, DEFAULT_DRAIN_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_KEEP_BUFFERS_UP_TO, DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT, TIMEOUT_ERROR_CODE,
};
#[cfg(any(feature = "ws", feature = "stream"))]
pub use defaults::{DEFAULT_MAX_CALLS_IN_FLIGHT, DEFAULT_SEND_TIMEOUT};
pub use forwarded::{ClientAddr, InvalidProxy, TrustedProxies};
pub use http::{health_response, ResponseFuture, RpcService};
pub use response::ResponseBody;
pub use serve::{bind, serve, serve_service, Serve, WithGracefulShutdown};
pub use served::HttpService;
#[cfg(feature = "ws")]
pub use ws::DEFAULT_PING_INTERVAL;
