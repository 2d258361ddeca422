//! The calculator as a Model Context Protocol server: its `add`, `subtract`, `multiply` and
//! `divide`, the very functions that serve HTTP, become MCP tools, beside two that only make
//! sense to an MCP client: `countdown`, which reports its progress, and `greet`, which asks
//! the user for a name.

use rpc_core::mcp::{self, Action, Tools};
use rpc_core::{rpc_method, Context, ErrorObject, Progress, Router};
use serde_json::json;

use crate::calculator::{self, Calc, Millis};

/// The most steps `countdown` takes.
pub const MAX_COUNT: u32 = 1_000;

/// Counts down from `count` to 0, one step every `interval_ms` milliseconds, and reports each
/// step as progress when the call asks for it (with a progress token). Cancelling the call
/// stops it at the next step.
#[rpc_method]
pub async fn countdown(
    count: u32,
    interval_ms: Millis,
    progress: Option<Progress>,
) -> Result<String, ErrorObject> {
    if count > MAX_COUNT {
        return Err(ErrorObject::invalid_params(format!(
            "count must be at most {MAX_COUNT}, not {count}"
        )));
    }
    let total = f64::from(count) + 1.0;
    for (step, left) in (0..=count).rev().enumerate() {
        tokio::time::sleep(interval_ms.duration()).await;
        if let Some(progress) = &progress {
            // Each step one more done: strictly increasing, up to the total.
            let done = (step + 1) as f64;
            progress.report(done, Some(total), Some(&left.to_string()));
        }
    }
    Ok(format!("Counted down from {count} to 0."))
}

/// Greets the user by name: asks the user for it through the client, and answers
/// `Hello, NAME!`, or `Hello, nobody!` when the user declines.
#[rpc_method]
pub async fn greet(cx: &Context<'_>) -> Result<String, ErrorObject> {
    let schema = json!({
        "type": "object",
        "properties": { "name": { "type": "string", "title": "Name" } },
        "required": ["name"],
    });
    let answer = mcp::elicit(cx, "name", "What is your name?", schema).await?;
    let name = answer
        .content
        .as_ref()
        .and_then(|content| content.get("name")?.as_str())
        .map(str::trim)
        .filter(|name| !name.is_empty());
    Ok(match (answer.action, name) {
        (Action::Accept, Some(name)) => format!("Hello, {name}!"),
        _ => "Hello, nobody!".to_owned(),
    })
}

/// The tools: the calculator's four, then `countdown` and `greet`.
pub fn tools() -> Router<Calc> {
    let mut router = Router::with_state(Calc::default());
    router
        .register(calculator::add::method())
        .and_then(|r| r.register(calculator::subtract::method()))
        .and_then(|r| r.register(calculator::multiply::method()))
        .and_then(|r| r.register(calculator::divide::method()))
        .and_then(|r| r.register(countdown::method()))
        .and_then(|r| r.register(greet::method()))
        .expect("distinct names");
    router
}

/// The MCP server: the protocol's methods, with [`tools`] as its tools.
pub fn server() -> Router<Tools<Calc>> {
    mcp::Server::new("calculator", env!("CARGO_PKG_VERSION"), tools())
        .instructions(
            "A calculator of 64-bit integers (add, subtract, multiply, divide), a countdown \
             that reports its progress, and a greeting that asks the user's name.",
        )
        .into_router()
}
