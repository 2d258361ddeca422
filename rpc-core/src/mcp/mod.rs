//! Model Context Protocol servers (the `mcp` feature): the methods of a router become MCP
//! tools, each with the `inputSchema` of its parameters, served by a router that speaks the
//! protocol's lifecycle. The tools are plain `#[rpc_method]` functions, the same that serve
//! HTTP; no MCP SDK is involved.
//!
//! ```
//! use rpc_core::{mcp, rpc_method, Router};
//!
//! /// Adds two integers.
//! #[rpc_method]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut tools = Router::new();
//! tools.register(add::method())?;
//! let server = mcp::Server::new("calculator", "1.0.0", tools).into_router();
//! // Served over stdio with
//! // `rpc_hyper::stream::stdio(server).dialect(Dialect::Mcp).batches(false)`; here, two
//! // exchanges by hand:
//! let listed = server.handle(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).await;
//! let listed: serde_json::Value = serde_json::from_slice(&listed.unwrap())?;
//! assert_eq!(listed["result"]["tools"][0]["name"], "add");
//! assert_eq!(listed["result"]["tools"][0]["inputSchema"]["required"], serde_json::json!(["a", "b"]));
//! let call = br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}"#;
//! let called: serde_json::Value = serde_json::from_slice(&server.handle(call).await.unwrap())?;
//! assert_eq!(called["result"]["content"][0]["text"], "5");
//! assert_eq!(called["result"]["isError"], false);
//! # Ok(()) }
//! ```
//!
//! # Writing tools
//!
//! A tool is a method: its name is the tool's, its doc comment the tool's description, its
//! parameters the tool's arguments (by name, with the JSON Schema of their Rust types; derive
//! `JsonSchema` on your own types). Its result is the tool's text; its error a tool error the
//! model reads. The rest is what any method may take:
//!
//! ```
//! use std::time::Duration;
//!
//! use rpc_core::mcp::{elicit, Action};
//! use rpc_core::{rpc_method, Context, ErrorObject, Progress};
//!
//! /// Waits `seconds`, telling the client how far it got. Cancelled, it stops at once.
//! #[rpc_method]
//! async fn wait(seconds: u32, progress: Option<Progress>) -> String {
//!     for done in 1..=seconds {
//!         tokio::time::sleep(Duration::from_secs(1)).await; // dropped here when cancelled
//!         if let Some(progress) = &progress {
//!             progress.report(f64::from(done), Some(f64::from(seconds)), None);
//!         }
//!     }
//!     format!("waited {seconds} s")
//! }
//!
//! /// Deletes a file, once the user agrees.
//! #[rpc_method]
//! async fn delete(cx: &Context<'_>, path: String) -> Result<String, ErrorObject> {
//!     let schema = serde_json::json!({
//!         "type": "object",
//!         "properties": { "sure": { "type": "boolean" } },
//!         "required": ["sure"],
//!     });
//!     let answer = elicit(cx, "sure", &format!("Delete {path}?"), schema).await?;
//!     let sure = answer.content.as_ref().and_then(|c| c["sure"].as_bool());
//!     if answer.action != Action::Accept || sure != Some(true) {
//!         return Err(ErrorObject::invalid_params("the user said no"));
//!     }
//!     Ok(format!("deleted {path}"))
//! }
//! # let _ = (wait::method::<()>(), delete::method::<()>());
//! ```
//!
//! - `Option<Progress>` is there when the call asked for progress (`_meta.progressToken`):
//!   each report is a `notifications/progress`, sent before the call's answer; reports after
//!   it are dropped.
//! - `notifications/cancelled` drops the call's future at its next await point, and no answer
//!   is sent; work handed to another thread checks a `CancelToken` parameter.
//! - [`elicit`] asks the user, in the way of the request's era.
//!
//! # Both eras of the protocol
//!
//! Each request says its era, and the server answers in kind, on one connection or another:
//! - the **handshake era** (up to 2025-11-25, what most hosts speak): `initialize`, then
//!   requests without a version of their own; the server may send the client requests;
//! - the **stateless era** (2026-07-28): `server/discover`, then requests whose `_meta` carries
//!   [`PROTOCOL_VERSION_KEY`] and the client's capabilities; every result says its
//!   `resultType`; the server sends no requests, and asks the user by answering a call
//!   `input_required` (see [`elicit`]). A version the server does not speak is error -32022
//!   ([`UNSUPPORTED_PROTOCOL_VERSION`]); a question to a client that cannot elicit, -32021
//!   ([`MISSING_CLIENT_CAPABILITY`]). (-32020, a header that disagrees with the body, is
//!   HTTP's, and does not arise on a stream.)
//!
//! | method | answer |
//! |---|---|
//! | `initialize` | the client's protocol version if it is one of [`PROTOCOL_VERSIONS`], else [`LATEST_PROTOCOL_VERSION`]; the `tools` capability; `serverInfo`; the instructions, if any |
//! | `notifications/initialized` | nothing (a notification) |
//! | `ping` | `{}` |
//! | `server/discover` | [`MODERN_PROTOCOL_VERSIONS`], the `tools` capability, the instructions, and the server's name and version under [`SERVER_INFO_KEY`] in `_meta`, at once |
//! | `tools/list` | every method of the tools' router, in registration order: its name, its doc comment as `description`, its parameters as `inputSchema` (JSON Schema 2020-12, from the Rust types); in the stateless era, to be kept for no time (`ttlMs` 0) |
//! | `tools/call` | the tool's result as text content (a string as itself, anything else as JSON text, an object also as `structuredContent`); an error of the tool as a result with `isError: true` and the error's text, as the protocol wants tool errors reported; an unknown tool as error -32602 |
//!
//! A tool takes what any method takes: an `Option<Progress>` reports `notifications/progress`
//! for the call's `_meta.progressToken`, the call is cancelled by `notifications/cancelled`
//! (its future dropped, no answer sent), a `&Context` asks the user with [`elicit`], in
//! either era, and a `Peer` calls the client back (`sampling/createMessage`, handshake era). Those need the connection's dialect: serve the router with
//! [`Dialect::Mcp`](crate::Dialect::Mcp); and MCP has no batches: refuse them
//! (`rpc_hyper::stream::StreamServer::batches(false)`).
//!
//! The tools of one router are the tools of every connection: the server keeps no state per
//! session. So a client's capabilities of the handshake era are not kept: a tool that asks
//! the user of a client that cannot elicit gets the client's error (-32601), or waits for
//! [`ANSWER_TIME`] if the client never answers. A tool is called directly, not through the
//! tools router's layers: put layers on the MCP router, where they wrap every request.
//! Batches are refused whatever the version (MCP 2025-03-26 had them; no host sends them).

mod ask;
mod call;
mod era;
mod lifecycle;
mod tools;

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::{RegisterError, Router};

pub use ask::{elicit, Action, Elicited, ANSWER_TIME};
pub use era::{
    CLIENT_CAPABILITIES_KEY, MISSING_CLIENT_CAPABILITY, MODERN_PROTOCOL_VERSIONS,
    PROTOCOL_VERSION_KEY, SERVER_INFO_KEY, UNSUPPORTED_PROTOCOL_VERSION,
};

/// The newest protocol version of the handshake era the server speaks: what `initialize`
/// answers a client that asks for one it does not know.
pub const LATEST_PROTOCOL_VERSION: &str = "2025-11-25";

/// Every protocol version of the handshake era the server speaks, newest first.
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// An MCP server: its name and version, and the router whose methods are its tools.
#[derive(Debug)]
pub struct Server<S> {
    name: Cow<'static, str>,
    version: Cow<'static, str>,
    instructions: Option<Cow<'static, str>>,
    tools: Router<S>,
}

/// The MCP router's state: the tools' router, and what the server says of itself and of them.
pub struct Tools<S> {
    tools: Router<S>,
    /// `tools/list`'s result in each era (handshake, stateless), made once.
    lists: [Box<RawValue>; 2],
    /// `serverInfo` and the instructions, as `initialize`'s result has them.
    name: Cow<'static, str>,
    version: Cow<'static, str>,
    instructions: Option<Cow<'static, str>>,
}

impl<S> std::fmt::Debug for Tools<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tools")
            .field("name", &self.name)
            .field("tools", &self.tools.methods().len())
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync + 'static> Server<S> {
    /// A server named `name` at `version` (its `serverInfo`), whose tools are `tools`' methods.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        version: impl Into<Cow<'static, str>>,
        tools: Router<S>,
    ) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            instructions: None,
            tools,
        }
    }

    /// Sets the instructions the client is given at `initialize` (how to use the tools).
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<Cow<'static, str>>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// The router that speaks MCP: serve it over stdio (or any stream) with
    /// [`Dialect::Mcp`](crate::Dialect::Mcp).
    pub fn into_router(self) -> Router<Tools<S>> {
        let lists = tools::list(&self.tools);
        // A tool may ask the user, call the client back or report progress: all need the
        // connection's peer, which the transport makes for a router whose methods say so.
        let call = call::call_method().uses_peer();
        let mut router = Router::with_state(Tools {
            tools: self.tools,
            lists,
            name: self.name,
            version: self.version,
            instructions: self.instructions,
        });
        // The protocol's own names, registered once on an empty router: none can clash.
        let registered: Result<_, RegisterError> = lifecycle::methods()
            .into_iter()
            .chain([tools::list_method(), call])
            .try_for_each(|method| router.register(method).map(drop));
        debug_assert!(registered.is_ok(), "the MCP methods have distinct names");
        router
    }
}
