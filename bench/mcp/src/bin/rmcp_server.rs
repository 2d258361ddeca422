//! rmcp 3.11 (the official Rust SDK) serving the same `add` tool over stdio, as its docs
//! build a tool server: `rmcp_server` on its default `stdio()` transport, `rmcp_server pipes`
//! on `stdio_pipes()`.

use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::{tool, tool_handler, tool_router, ServerHandler, ServiceExt};

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct AddRequest {
    a: i64,
    b: i64,
}

#[derive(Debug, Clone)]
struct Calculator {
    #[allow(dead_code)]
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Calculator {
    #[tool(description = "Adds two integers.")]
    fn add(&self, Parameters(AddRequest { a, b }): Parameters<AddRequest>) -> String {
        a.wrapping_add(b).to_string()
    }
}

#[tool_handler]
impl ServerHandler for Calculator {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calculator = Calculator {
        tool_router: Calculator::tool_router(),
    };
    let running = if std::env::args().nth(1).as_deref() == Some("pipes") {
        calculator.serve(rmcp::transport::stdio_pipes()).await?
    } else {
        calculator.serve(rmcp::transport::stdio()).await?
    };
    running.waiting().await?;
    Ok(())
}
