//! The protocol's lifecycle: in the handshake era `initialize` (the version negotiated, the
//! capabilities, who the server is), `notifications/initialized` and `ping`; in the stateless
//! era `server/discover`.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::era::{Envelope, MODERN_PROTOCOL_VERSIONS, SERVER_INFO_KEY};
use super::{Tools, LATEST_PROTOCOL_VERSION, PROTOCOL_VERSIONS};
use crate::response::write_json;
use crate::{Method, Params};

/// What the client says at `initialize`: only its version matters to the server.
#[derive(Deserialize)]
struct Initialize<'a> {
    #[serde(rename = "protocolVersion", borrow)]
    protocol_version: std::borrow::Cow<'a, str>,
}

#[derive(Serialize)]
struct Initialized<'a> {
    #[serde(rename = "protocolVersion")]
    protocol_version: &'a str,
    capabilities: Capabilities,
    #[serde(rename = "serverInfo")]
    server_info: ServerInfo<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
}

#[derive(Serialize)]
struct Capabilities {
    tools: ToolsCapability,
}

#[derive(Serialize)]
struct ToolsCapability {
    /// The tools never change while the server runs.
    #[serde(rename = "listChanged")]
    list_changed: bool,
}

#[derive(Serialize)]
struct ServerInfo<'a> {
    name: &'a str,
    version: &'a str,
}

/// The version both sides speak: the client's if the server knows it, else the server's
/// newest (the client then decides whether it can go on).
pub(super) fn negotiate(asked: &str) -> &'static str {
    PROTOCOL_VERSIONS
        .iter()
        .find(|known| **known == asked)
        .copied()
        .unwrap_or(LATEST_PROTOCOL_VERSION)
}

/// `initialize`, `notifications/initialized`, `ping` and `server/discover`.
pub(super) fn methods<S: Send + Sync + 'static>() -> Vec<Method<Tools<S>>> {
    let initialize = Method::from_sync_json(
        "initialize",
        |tools: &Tools<S>, _, params: Params<'_>, out: &mut Vec<u8>| {
            let asked: Initialize<'_> = params.parse()?;
            let answer = Initialized {
                protocol_version: negotiate(&asked.protocol_version),
                capabilities: Capabilities {
                    tools: ToolsCapability {
                        list_changed: false,
                    },
                },
                server_info: ServerInfo {
                    name: &tools.name,
                    version: &tools.version,
                },
                instructions: tools.instructions.as_deref(),
            };
            write_json(out, &answer)
        },
    )
    .doc("Starts the session: the protocol version both sides speak, and what the server can do.");
    // A notification; sent as a request by mistake, it gets an empty result.
    let initialized = Method::from_sync_json(
        "notifications/initialized",
        |_: &Tools<S>, _, _, out: &mut Vec<u8>| {
            out.extend_from_slice(b"{}");
            Ok(())
        },
    )
    .doc("The client is ready.");
    let ping = Method::from_sync_json(
        "ping",
        |_: &Tools<S>, _, params: Params<'_>, out: &mut Vec<u8>| {
            let envelope = Envelope::of(params);
            envelope.check()?;
            if envelope.is_modern() {
                out.extend_from_slice(br#"{"resultType":"complete"}"#);
            } else {
                out.extend_from_slice(b"{}");
            }
            Ok(())
        },
    )
    .doc("Answers at once: the server is alive.");
    let discover = Method::from_sync_json(
        "server/discover",
        |tools: &Tools<S>, _, params: Params<'_>, out: &mut Vec<u8>| {
            Envelope::of(params).check()?;
            let mut answer = json!({
                "supportedVersions": MODERN_PROTOCOL_VERSIONS,
                "capabilities": { "tools": { "listChanged": false } },
                "resultType": "complete",
                "ttlMs": 0,
                "cacheScope": "public",
                "_meta": { SERVER_INFO_KEY: { "name": tools.name, "version": tools.version } },
            });
            if let Some(instructions) = &tools.instructions {
                answer["instructions"] = json!(instructions);
            }
            write_json(out, &answer)
        },
    )
    .doc("The stateless era's start: the versions and capabilities of the server.");
    vec![initialize, initialized, ping, discover]
}

#[cfg(test)]
mod tests {
    use super::negotiate;

    #[test]
    fn a_known_version_is_answered_in_kind_and_an_unknown_one_with_the_newest() {
        assert_eq!(negotiate("2025-06-18"), "2025-06-18");
        assert_eq!(negotiate("2024-11-05"), "2024-11-05");
        assert_eq!(negotiate("1999-01-01"), super::LATEST_PROTOCOL_VERSION);
    }
}
