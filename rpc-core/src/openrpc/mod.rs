//! Discovery (the `openrpc` feature): an [OpenRPC](https://spec.open-rpc.org) document of a
//! router's methods, made from what the attributes know about each (names, doc comments,
//! parameters, types as JSON Schema), produced by [`Router::openrpc`] and served as the
//! method `rpc.discover` by [`Router::discover`].
//!
//! ```
//! use rpc_core::openrpc::Info;
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
//! let document = router.openrpc(&Info::new("calculator", "1.0.0")).to_value();
//! assert_eq!(document["openrpc"], "1.3.2");
//! assert_eq!(document["methods"][0]["summary"], "Adds two integers.");
//! assert_eq!(document["methods"][0]["params"][1]["name"], "b");
//! assert_eq!(document["methods"][0]["params"][1]["schema"]["type"], "integer");
//! // Served as `rpc.discover`, built at its first call and kept.
//! router.discover(Info::new("calculator", "1.0.0"))?;
//! # Ok::<(), rpc_core::RegisterError>(())
//! ```
//!
//! # The version: OpenRPC 1.3.2
//!
//! The document declares `"openrpc": "1.3.2"`, the last 1.3 release, whose official
//! meta-schema (the one the tests validate against) lists the released versions up to it;
//! the 1.4 meta-schema accepts only `1.4.x`. 1.3 is what the playground, the generators and
//! the libraries of the OpenRPC project read today, and a 1.3 document uses nothing 1.4 added.
//!
//! # Schemas
//!
//! Types are described in JSON Schema draft-07, OpenRPC's dialect, by
//! [`schemars`](https://docs.rs/schemars) (re-exported as [`rpc_core::schemars`](crate::schemars)):
//! derive `JsonSchema` on your own types. A type used by more than one method is defined once
//! under `components/schemas` and referenced as `{"$ref": "#/components/schemas/Name"}`;
//! tuples come out as draft-07 `items` arrays, recursive types as references to themselves.
//!
//! Params are described as the server reads them (schemars' deserialize contract), results
//! and subscription items as it writes them (the serialize contract): a `#[serde(default)]`
//! field is optional in a param, always there in a result. A type whose two descriptions
//! differ is defined twice, the output one as `NameOutput`.
//!
//! A type without a `JsonSchema` implementation does not stop the build: its schema is the
//! empty one (anything), as for methods built by hand without
//! [`ParamInfo::schema`](crate::ParamInfo::schema). That keeps a workspace building when one
//! of its crates turns the feature on.
//!
//! # What each method says
//!
//! | field | from |
//! |---|---|
//! | `name` | the wire name |
//! | `summary`, `description` | the doc comment: its first paragraph, and the whole |
//! | `params` | in positional order: each wire parameter's name, `required` (`false` for an `Option`, described by its inner type; but an `Option` before a required param must be given by position, so it is `required`, its schema allowing `null`), `schema` |
//! | `result` | the `Ok` type of a `Result` (under any name), or the type returned, as it is serialized |
//! | `paramStructure` | `"either"`: both shapes are accepted; for `#[rpc(params)]` methods, `"by-name"` (a struct's fields, required ones first) or `"by-position"` (a tuple's items) |
//! | `x-aliases` | the other names it answers to ([`Router::alias`](crate::Router::alias)) |
//! | `errors` | the attribute's `errors(CODE = "message", ...)` |
//! | `x-subscription` | for a subscription: its `notification`, `unsubscribe` method and `item` schema |

use serde_json::value::RawValue;

use crate::method::Callback;
use crate::register::Refusal;
use crate::schema::Discovery;
use crate::{ErrorObject, Method, Params, RegisterError, Router};

mod document;
mod refs;

pub use crate::schema::{Info, TypeSchema};
use document::document;
pub use document::Document;

/// The version of the OpenRPC specification the document follows.
pub const OPENRPC_VERSION: &str = "1.3.2";

/// The name OpenRPC reserves for the method that returns the document; the only `rpc.` name
/// a router takes.
pub const DISCOVER: &str = "rpc.discover";

impl<S> Router<S> {
    /// The OpenRPC document of every method registered, in registration order (a
    /// subscription's unsubscribe method right after it), as JSON: to write to a file in a
    /// build step or a test, or to serve some other way.
    pub fn openrpc(&self, info: &Info) -> Document {
        document(self.methods(), info)
    }

    /// Writes `rpc.discover`'s answer: the document, made at the first call and kept, copied.
    /// Params may be absent, `[]` or `{}`.
    pub(crate) fn write_document(
        &self,
        params: Params<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), ErrorObject> {
        let empty = params.raw().is_none_or(|raw| {
            let inner = raw.trim();
            inner.len() >= 2 && inner[1..inner.len() - 1].trim().is_empty()
        });
        if !empty {
            return Err(ErrorObject::invalid_params("rpc.discover takes no params"));
        }
        let Some(discovery) = &self.discovery else {
            return Err(ErrorObject::method_not_found());
        };
        let document = discovery.document.get_or_init(|| {
            let document = self.openrpc(&discovery.info);
            serde_json::value::to_raw_value(&document).unwrap_or_else(|_| RawValue::NULL.to_owned())
        });
        out.extend_from_slice(document.get().as_bytes());
        Ok(())
    }
}

impl<S> Method<S> {
    /// Sets the schema of the result (the `openrpc` feature).
    #[must_use]
    pub fn result_schema(mut self, schema: impl Into<Option<TypeSchema>>) -> Self {
        self.info.result_schema = schema.into();
        self
    }

    /// Sets the schema of a subscription's items (the `openrpc` feature; nothing for other
    /// methods).
    #[must_use]
    pub fn item_schema(mut self, schema: impl Into<Option<TypeSchema>>) -> Self {
        if let Some(subscription) = &mut self.info.subscription {
            subscription.item_schema = schema.into();
        }
        self
    }
}

impl<S: Send + Sync + 'static> Router<S> {
    /// Serves the OpenRPC document of every method registered, with this `info`, as the
    /// method `rpc.discover` (for params absent, `[]` or `{}`). The document is made at its
    /// first call and kept; registering another method later makes it again.
    ///
    /// ```
    /// use rpc_core::Router;
    ///
    /// let mut router = Router::new();
    /// router.discover(rpc_core::openrpc_info!())?;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let answer = router
    ///     .handle(br#"{"jsonrpc":"2.0","method":"rpc.discover","id":1}"#)
    ///     .await
    ///     .unwrap();
    /// let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    /// assert_eq!(answer["result"]["openrpc"], "1.3.2");
    /// assert_eq!(answer["result"]["methods"][0]["name"], "rpc.discover");
    /// # });
    /// # Ok::<(), rpc_core::RegisterError>(())
    /// ```
    pub fn discover(&mut self, info: Info) -> Result<&mut Self, RegisterError> {
        if self.method_info(DISCOVER).is_some() {
            return Err(RegisterError::new(DISCOVER, Refusal::Duplicate));
        }
        self.discovery = Some(Box::new(Discovery::new(info)));
        self.insert(discoverer());
        Ok(self)
    }
}

/// `rpc.discover`: the router's OpenRPC document.
fn discoverer<S>() -> Method<S> {
    Method::with_callback(DISCOVER, false, Callback::Discover)
        .doc("Returns the OpenRPC document of this service: every method, its params, result and errors, with their JSON Schemas.")
        .result_type("OpenRPC document")
}

/// The [`Info`] of the crate it is written in: its name, version and description, from its
/// manifest.
///
/// ```
/// let info = rpc_core::openrpc_info!();
/// assert_eq!(info.title, "rpc-core");
/// ```
#[macro_export]
macro_rules! openrpc_info {
    () => {
        $crate::openrpc::Info::new(
            ::core::env!("CARGO_PKG_NAME"),
            ::core::env!("CARGO_PKG_VERSION"),
        )
        .description(::core::env!("CARGO_PKG_DESCRIPTION"))
    };
}
