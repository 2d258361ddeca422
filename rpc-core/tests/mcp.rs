//! The MCP router, by its messages: tools listed with the schemas of their Rust parameters,
//! the handshake era's negotiation, and the stateless era's results, version check, missing
//! capability, and questions to the user over several rounds (`input_required`, the answers
//! of earlier rounds kept in `requestState`).

use rpc_core::mcp::{self, elicit, Action};
use rpc_core::{rpc_method, rpc_subscription, Context, ErrorObject, Router, Sink};
use serde::Deserialize;
use serde_json::{json, Value};

/// A point on the plane.
#[derive(Deserialize, schemars::JsonSchema)]
struct Point {
    x: i64,
    y: i64,
}

/// Moves a point by `dx`, and `dy` if given.
#[rpc_method]
fn shift(point: Point, dx: i64, dy: Option<i64>) -> (i64, i64) {
    (point.x + dx, point.y + dy.unwrap_or(0))
}

/// Answers an object.
#[rpc_method]
fn describe() -> Value {
    json!({"kind": "object"})
}

/// Items; not a tool.
#[rpc_subscription]
async fn ticks(sink: Sink<u64>) {
    let _ = sink.send(1).await;
}

/// Asks two questions, and answers with both answers.
#[rpc_method]
async fn survey(cx: &Context<'_>) -> Result<String, ErrorObject> {
    let schema = json!({"type": "object", "properties": {"v": {"type": "string"}}});
    let first = elicit(cx, "first", "First?", schema.clone()).await?;
    let second = elicit(cx, "second", "Second?", schema).await?;
    let value = |answer: &mcp::Elicited| match answer.action {
        Action::Accept => answer
            .content
            .as_ref()
            .map_or(Value::Null, |c| c["v"].clone()),
        _ => Value::Null,
    };
    Ok(format!("{} {}", value(&first), value(&second)))
}

fn server() -> Router<mcp::Tools<()>> {
    let mut tools = Router::new();
    for method in [
        shift::method(),
        describe::method(),
        ticks::method(),
        survey::method(),
    ] {
        tools.register(method).unwrap();
    }
    mcp::Server::new("test", "1.2.3", tools).into_router()
}

async fn ask(router: &Router<mcp::Tools<()>>, method: &str, params: Value) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let answer = router
        .handle(request.to_string().as_bytes())
        .await
        .expect("an answer");
    serde_json::from_slice(&answer).unwrap()
}

fn modern(mut params: Value, capabilities: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
    });
    params
}

#[tokio::test]
async fn tools_are_the_methods_that_answer_with_the_schemas_of_their_parameters() {
    let router = server();
    let listed = ask(&router, "tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    // The subscription and its unsubscribe method are no tools.
    assert_eq!(names, ["shift", "describe", "survey"]);
    let shift = &tools[0];
    assert_eq!(
        shift["description"],
        "Moves a point by `dx`, and `dy` if given."
    );
    let schema = &shift["inputSchema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["point", "dx"]));
    assert_eq!(schema["properties"]["dy"]["type"], "integer");
    // A struct is defined once, beside the properties.
    assert_eq!(schema["properties"]["point"]["$ref"], "#/$defs/Point");
    assert_eq!(schema["$defs"]["Point"]["required"], json!(["x", "y"]));
    assert!(
        listed["result"].get("resultType").is_none(),
        "handshake era"
    );
}

#[tokio::test]
async fn results_are_text_an_object_also_structured_and_errors_are_tool_errors() {
    let router = server();
    let called = ask(
        &router,
        "tools/call",
        json!({"name": "shift", "arguments": {"point": {"x": 1, "y": 2}, "dx": 3}}),
    )
    .await;
    assert_eq!(
        called["result"],
        json!({"content": [{"type": "text", "text": "[4,2]"}], "isError": false})
    );
    let described = ask(&router, "tools/call", json!({"name": "describe"})).await;
    assert_eq!(
        described["result"]["structuredContent"],
        json!({"kind": "object"})
    );
    // Bad arguments are the tool's error, told as a result; an unknown tool is the protocol's.
    let wrong = ask(
        &router,
        "tools/call",
        json!({"name": "shift", "arguments": {"dx": 1}}),
    )
    .await;
    assert_eq!(wrong["result"]["isError"], true, "{wrong}");
    let unknown = ask(&router, "tools/call", json!({"name": "ticks"})).await;
    assert_eq!(
        unknown["error"]["code"], -32602,
        "a subscription is no tool"
    );
}

#[tokio::test]
async fn initialize_answers_a_known_version_in_kind_and_an_unknown_one_with_the_newest() {
    let router = server();
    for (asked, answered) in [("2025-06-18", "2025-06-18"), ("2031-01-01", "2025-11-25")] {
        let params = json!({"protocolVersion": asked, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
        let answer = ask(&router, "initialize", params).await;
        assert_eq!(answer["result"]["protocolVersion"], answered);
        assert_eq!(
            answer["result"]["serverInfo"],
            json!({"name": "test", "version": "1.2.3"})
        );
        assert_eq!(
            answer["result"]["capabilities"]["tools"]["listChanged"],
            false
        );
    }
}

#[tokio::test]
async fn the_stateless_era_says_result_types_and_refuses_other_versions() {
    let router = server();
    let discovered = ask(&router, "server/discover", modern(json!({}), json!({}))).await;
    assert_eq!(
        discovered["result"]["supportedVersions"],
        json!(["2026-07-28"])
    );
    assert_eq!(discovered["result"]["resultType"], "complete");
    assert_eq!(
        discovered["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "test"
    );
    let listed = ask(&router, "tools/list", modern(json!({}), json!({}))).await;
    assert_eq!(listed["result"]["resultType"], "complete");
    assert_eq!(listed["result"]["ttlMs"], 0);
    assert_eq!(listed["result"]["cacheScope"], "public");
    let called = ask(
        &router,
        "tools/call",
        modern(json!({"name": "describe"}), json!({})),
    )
    .await;
    assert_eq!(called["result"]["resultType"], "complete");
    let mut params = modern(json!({"name": "describe"}), json!({}));
    params["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let refused = ask(&router, "tools/call", params).await;
    assert_eq!(refused["error"]["code"], -32022);
    assert_eq!(
        refused["error"]["data"],
        json!({
            "supported": ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"],
            "requested": "2099-01-01",
        })
    );
}

#[tokio::test]
async fn questions_to_the_user_take_rounds_and_earlier_answers_ride_in_the_request_state() {
    let router = server();
    let without = ask(
        &router,
        "tools/call",
        modern(json!({"name": "survey"}), json!({})),
    )
    .await;
    assert_eq!(
        without["error"]["code"], -32021,
        "no elicitation capability: {without}"
    );
    let capable = json!({"elicitation": {}});
    let first = ask(
        &router,
        "tools/call",
        modern(json!({"name": "survey"}), capable.clone()),
    )
    .await;
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    assert_eq!(
        result["inputRequests"]["first"]["method"],
        "elicitation/create"
    );
    assert_eq!(
        result["inputRequests"]["first"]["params"]["message"],
        "First?"
    );
    assert!(result.get("content").is_none());
    let accept = |v: &str| json!({"action": "accept", "content": {"v": v}});
    let second = ask(
        &router,
        "tools/call",
        modern(
            json!({"name": "survey", "inputResponses": {"first": accept("a")}}),
            capable.clone(),
        ),
    )
    .await;
    let result = &second["result"];
    assert_eq!(
        result["inputRequests"]["second"]["params"]["message"],
        "Second?"
    );
    let state = result["requestState"]
        .as_str()
        .expect("the first answer, kept");
    let done = ask(
        &router,
        "tools/call",
        modern(
            json!({"name": "survey", "inputResponses": {"second": accept("b")}, "requestState": state}),
            capable,
        ),
    )
    .await;
    assert_eq!(
        done["result"]["content"][0]["text"], "\"a\" \"b\"",
        "{done}"
    );
    assert_eq!(done["result"]["resultType"], "complete");
}
