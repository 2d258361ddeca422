//! The protocol's two eras, told apart per request: a request whose `_meta` names its
//! protocol version (`io.modelcontextprotocol/protocolVersion`) is of the stateless era
//! (2026-07-28: `server/discover`, `resultType` on every result, no requests from the server);
//! any other is of the handshake era (`initialize`, up to 2025-11-25).

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::{ErrorObject, Params};

/// The protocol versions of the stateless era the server speaks, newest first.
pub const MODERN_PROTOCOL_VERSIONS: &[&str] = &["2026-07-28"];

/// The key of a request's protocol version in its `_meta`.
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";

/// The key of the client's capabilities in a request's `_meta`.
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";

/// The key of the server's name and version in a result's `_meta`.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";

/// -32021: the request needs a capability the client did not declare.
pub const MISSING_CLIENT_CAPABILITY: i32 = -32021;

/// -32022: the request's protocol version is not one the server speaks.
pub const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;

/// What a request's params say of its era.
#[derive(Deserialize, Default)]
pub(super) struct Envelope<'a> {
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<Meta<'a>>,
}

#[derive(Deserialize, Default)]
struct Meta<'a> {
    #[serde(borrow, default, rename = "io.modelcontextprotocol/protocolVersion")]
    version: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default, rename = "io.modelcontextprotocol/clientCapabilities")]
    capabilities: Option<&'a RawValue>,
}

impl<'a> Envelope<'a> {
    /// The envelope of `params` (none when they are not an object).
    pub(super) fn of(params: Params<'a>) -> Self {
        params
            .raw()
            .filter(|text| text.starts_with('{'))
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default()
    }

    /// The request's version, when it is of the stateless era.
    pub(super) fn version(&self) -> Option<&str> {
        self.meta.as_ref()?.version.as_deref()
    }

    /// Whether the request is of the stateless era.
    pub(super) fn is_modern(&self) -> bool {
        self.version().is_some()
    }

    /// For a request of the stateless era: error -32022 unless the server speaks its version.
    pub(super) fn check(&self) -> Result<(), ErrorObject> {
        match self.version() {
            Some(version) if !MODERN_PROTOCOL_VERSIONS.contains(&version) => {
                Err(ErrorObject::server_error(
                    UNSUPPORTED_PROTOCOL_VERSION,
                    "Unsupported protocol version",
                )
                .with_data(json!({
                    // Both eras': a client that speaks neither stateless version may still
                    // shake hands.
                    "supported": MODERN_PROTOCOL_VERSIONS
                        .iter()
                        .chain(super::PROTOCOL_VERSIONS)
                        .collect::<Vec<_>>(),
                    "requested": version,
                })))
            }
            _ => Ok(()),
        }
    }

    /// Whether the client declared the capability `name` on this request.
    pub(super) fn declares(&self, name: &str) -> bool {
        self.meta
            .as_ref()
            .and_then(|meta| meta.capabilities)
            .and_then(|raw| serde_json::from_str::<Map<String, Value>>(raw.get()).ok())
            .is_some_and(|capabilities| capabilities.contains_key(name))
    }
}
