//! The MCP example against the official Python SDK (`mcp` on PyPI, installed by `.ci/run`),
//! in both eras of the protocol: its `ClientSession` (the initialize handshake) and its
//! `Client` in the stateless era (2026-07-28, pinned, and "auto", which discovers it at once)
//! see every tool with its schema, tool errors as `isError` results, an unknown tool as
//! -32602, progress, the user asked (accepted, then declined: by `elicitation/create` in the
//! handshake era, by `input_required` and the SDK's retry in the stateless one), a call
//! cancelled mid-countdown, and 50 concurrent calls.

use rpc_tests::run_python;
use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_mcp");

/// What the SDK saw in `mode`, or `None` where the SDK is not installed (outside CI).
async fn seen(mode: &str) -> Option<Value> {
    let script = include_str!("../python/mcp_client.py");
    let printed = run_python("mcp, mcp_types, anyio", script, &[BINARY, mode]).await?;
    Some(serde_json::from_str(printed.trim()).expect("the script prints JSON"))
}

/// What every era shows alike.
fn check_tools(seen: &Value, mode: &str) {
    assert_eq!(
        seen["tools"],
        json!([
            "add",
            "subtract",
            "multiply",
            "divide",
            "countdown",
            "greet"
        ]),
        "{mode}"
    );
    // The schema comes from the Rust signature `fn add(.., a: i64, b: i64)`.
    assert_eq!(seen["add_schema"]["required"], json!(["a", "b"]));
    assert_eq!(seen["add_schema"]["properties"]["a"]["type"], "integer");
    assert_eq!(seen["add"], "5");
    assert_eq!(seen["divide_by_zero"], "Invalid params: division by zero");
    assert_eq!(seen["overflow"], "Invalid params: integer overflow");
    assert_eq!(seen["unknown_tool_code"], -32602);
    assert_eq!(seen["countdown"], "Counted down from 3 to 0.");
    // Strictly increasing, with the total set, one per step.
    assert_eq!(
        seen["progress"],
        json!([
            [1.0, 4.0, "3"],
            [2.0, 4.0, "2"],
            [3.0, 4.0, "1"],
            [4.0, 4.0, "0"]
        ])
    );
    assert_eq!(seen["elicited"][0]["message"], "What is your name?");
    assert_eq!(seen["greet_accepted"], "Hello, Ada!");
    assert_eq!(seen["greet_declined"], "Hello, nobody!");
    assert_eq!(seen["cancelled"], true);
    assert_eq!(seen["after_cancel"], "42");
    assert_eq!(seen["concurrent"], 50);
}

#[tokio::test]
async fn the_python_sdks_client_session_uses_every_tool_in_the_handshake_era() {
    let Some(seen) = seen("legacy").await else {
        return;
    };
    assert_eq!(seen["protocol_version"], "2025-11-25");
    assert_eq!(seen["server"], "calculator");
    assert_eq!(
        seen["elicited"][0]["schema"]["properties"]["name"]["type"],
        "string"
    );
    check_tools(&seen, "legacy");
}

#[tokio::test]
async fn the_python_sdks_client_uses_every_tool_in_the_stateless_era() {
    for mode in ["2026-07-28", "auto"] {
        let Some(seen) = seen(mode).await else {
            return;
        };
        assert_eq!(seen["protocol_version"], "2026-07-28", "{mode}");
        // `server/discover` is answered at once: "auto" does not wait out its 10 s.
        assert!(
            seen["connect_seconds"].as_f64().expect("a number") < 5.0,
            "{mode}"
        );
        if mode == "auto" {
            assert_eq!(
                seen["server"], "calculator",
                "discovered: the server's info"
            );
        }
        assert_eq!(seen["result_type"], "complete");
        // Asked through `input_required`, under the key the tool gave.
        assert_eq!(seen["elicited"][0]["key"], "name");
        check_tools(&seen, mode);
    }
}
