//! JSON-RPC 2.0 for Rust: protocol types, error objects and a transport-agnostic dispatcher.
//!
//! A [`Router`] holds methods by name and the application state they share. Its one entry
//! point, [`Router::handle`], takes the bytes of a request body and returns the bytes of the
//! response body, or `None` when nothing is to be answered (notifications). Any transport can
//! sit on top; `rpc-hyper` serves it over HTTP.
//!
//! ```
//! use rpc_core::{ErrorObject, Method, Params, Router};
//!
//! let mut router = Router::new();
//! router
//!     .register(Method::new_sync("add", |_: &(), params: Params<'_>| {
//!         let (a, b): (i64, i64) = params.parse()?;
//!         Ok::<_, ErrorObject>(a + b)
//!     }))?
//!     .register(Method::new_sync("divide", |_: &(), params: Params<'_>| {
//!         let (a, b): (i64, i64) = params.parse()?;
//!         if b == 0 {
//!             return Err(ErrorObject::invalid_params("division by zero"));
//!         }
//!         Ok(a as f64 / b as f64)
//!     }))?;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let batch = br#"[
//!     {"jsonrpc": "2.0", "method": "add", "params": [2, 3], "id": 1},
//!     {"jsonrpc": "2.0", "method": "divide", "params": [1, 0], "id": 2},
//!     {"jsonrpc": "2.0", "method": "add", "params": [1, 1]}
//! ]"#;
//! let response = router.handle(batch).await.unwrap();
//! assert_eq!(
//!     String::from_utf8(response).unwrap(),
//!     concat!(
//!         r#"[{"jsonrpc":"2.0","result":5,"id":1},"#,
//!         r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"division by zero"},"id":2}]"#,
//!     )
//! );
//! # });
//! # Ok::<(), rpc_core::RegisterError>(())
//! ```
//!
//! # Methods from plain functions
//! The [`rpc_method`] attribute does the decoding for you, with typed parameters by position or
//! by name and precise "Invalid params" errors; its page here is the full reference.
//!
//! ```
//! use rpc_core::{rpc_method, Router};
//!
//! /// Adds two integers.
//! #[rpc_method]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! let mut router = Router::new();
//! router.register(add::method())?;
//! # Ok::<(), rpc_core::RegisterError>(())
//! ```
//!
//! # Feature flags
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `macros` | on | the [`rpc_method`] attribute (the `rpc-macros` crate, built with `syn`) |
//! | `client` | off | what a client needs: `TypedCall`, `TypedSubscription`, `write_request`; with `macros`, the attributes also generate typed stubs (`add::call(2, 3)`, `countdown::subscribe(5, 100)`) |
//! | `mcp` | off | Model Context Protocol servers: a router's methods as MCP tools (see the `mcp` module), in both eras of the protocol; turns on `openrpc` for the tools' schemas |
//! | `openrpc` | off | discovery: the OpenRPC document of a router's methods ([`Router::openrpc`], `rpc.discover` with [`Router::discover`]; see the `openrpc` module), with the JSON Schemas of their types (schemars); with `macros`, the attributes record each type's schema |
//!
//! Without `macros`, methods are built by hand with [`Method::new_sync`] and
//! [`Method::new_async`]. The transports and their features are `rpc-hyper`'s (see its
//! "Feature flags").
//!
//! # Design
//! - Requests are parsed in one pass straight from the borrowed body; params stay raw JSON text
//!   ([`Params`]) until the method decodes them. No `serde_json::Value` is built on the way.
//! - Responses are written straight into one buffer; a sync method serializes its result into
//!   it directly and allocates no future.
//! - The async calls of a batch run concurrently on the caller's task; responses keep the order
//!   of the calls.
//! - Every failure is a response, never an `Err` or a panic: see [`Router::handle`].

mod answers;
mod batch;
mod boxed;
mod call;
#[cfg(feature = "client")]
mod call_spec;
mod cancel;
mod compose;
mod context;
mod decide;
mod dialect;
mod dispatch;
mod error;
pub mod geth;
mod handle;
mod id;
mod info;
mod json_text;
mod kinds;
mod layer;
#[cfg(feature = "mcp")]
pub mod mcp;
mod method;
#[cfg(feature = "openrpc")]
pub mod openrpc;
mod params;
mod peer;
mod progress;
mod register;
mod request;
mod response;
mod router;
#[cfg(feature = "openrpc")]
mod schema;
mod state;
mod subscription;

#[doc(hidden)]
pub mod __private;

pub use boxed::BoxFuture;
#[cfg(feature = "client")]
pub use call_spec::{TypedCall, TypedSubscription};
pub use cancel::{CancelToken, Cancellation, REQUEST_CANCELLED};
pub use compose::Methods;
pub use context::{ConnectionId, Context, Ext, Extensions, HeaderMap, PeerAddr, PeerCred, Version};
pub use dialect::Dialect;
pub use dispatch::push::{Begun, Handled, Order};
pub use error::params::{ParamsError, ParamsProblem};
pub use error::{ErrorCode, ErrorObject};
pub use id::Id;
pub use info::{MethodInfo, ParamInfo};
pub use layer::{Answer, AsyncCallLayer, Call, CallLayer, Next, Outcome};
pub use method::Method;
pub use params::Params;
pub use peer::{
    Outgoing, Peer, PeerError, PeerSettings, Timer, DEFAULT_MAX_PEER_REQUESTS,
    DEFAULT_PEER_REQUEST_TIMEOUT,
};
pub use progress::{Progress, MAX_PROGRESS_TOKEN_LEN};
pub use register::RegisterError;
pub use request::Request;
pub use response::{write_request, Response};
pub use router::{NotSync, Router, DEFAULT_MAX_BATCH_LEN};
pub use state::{FromState, State};
pub use subscription::{
    Broadcast, Note, Outbox, OutboxLimits, PendingSink, RawSink, SendError, Sink, Subscription,
    SubscriptionEnd, SubscriptionId, SubscriptionInfo, Taken, DEFAULT_MAX_QUEUED,
    DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_SUBSCRIPTIONS,
};

/// The JSON Schema generator the `openrpc` feature describes types with: derive its
/// `JsonSchema` on your own types (schemars 1.x; with its `derive` feature in your manifest).
#[cfg(feature = "openrpc")]
pub use schemars;

#[cfg(feature = "macros")]
#[doc = include_str!("docs/rpc_method.md")]
#[doc(inline)]
pub use rpc_macros::rpc_method;

#[cfg(feature = "macros")]
#[doc = include_str!("docs/rpc_subscription.md")]
#[doc(inline)]
pub use rpc_macros::rpc_subscription;
