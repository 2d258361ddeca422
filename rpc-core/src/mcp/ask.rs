//! Asking the user, in either era: by a request to the client (`elicitation/create`, the
//! handshake era), or by answering the call with `input_required` and reading the answer from
//! the client's retry (the stateless era, which has no requests from the server).

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::era::{Envelope, MISSING_CLIENT_CAPABILITY};
use crate::{Context, ErrorObject, Params};

/// The code of the error that stands for "the client must ask the user first": `tools/call`
/// turns it into an `input_required` result. It only passes through a tool that returns the
/// error of [`elicit`] as it is (with `?`).
pub(super) const INPUT_REQUIRED: i32 = -32099;

/// How long the user has to answer in the handshake era: 10 minutes.
pub const ANSWER_TIME: std::time::Duration = std::time::Duration::from_secs(600);

/// What the user did with a question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Action {
    /// Answered: the content holds the answer.
    Accept,
    /// Declined to answer.
    Decline,
    /// Dismissed the question.
    Cancel,
}

/// The user's answer to [`elicit`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Elicited {
    /// What the user did.
    pub action: Action,
    /// The answer, an object of the requested schema, when accepted.
    #[serde(default)]
    pub content: Option<Map<String, Value>>,
}

/// Asks the user a question through the client: `message`, and the answer's shape as the
/// JSON Schema of a flat object (`schema`). `key` names the question among the tool's others.
///
/// - Handshake era: sends `elicitation/create` to the client (through the connection's
///   [`Peer`](crate::Peer), which the MCP router always asks for) and awaits the answer, for
///   [`ANSWER_TIME`] at most.
/// - Stateless era: the first time, fails with an error that `tools/call` answers as an
///   `input_required` result; the client asks the user and calls the tool again with the answer,
///   which this then returns. Return the error as it is (`?`), and write the tool so that it
///   can run again from the start. A client that did not declare `elicitation` gets -32021.
///
/// ```
/// use rpc_core::mcp::{elicit, Action};
/// use rpc_core::{rpc_method, Context, ErrorObject};
///
/// /// Greets the user by the name they give.
/// #[rpc_method]
/// async fn greet(cx: &Context<'_>) -> Result<String, ErrorObject> {
///     let schema = serde_json::json!({
///         "type": "object",
///         "properties": { "name": { "type": "string" } },
///         "required": ["name"],
///     });
///     let answer = elicit(cx, "name", "What is your name?", schema).await?;
///     let name = answer.content.as_ref().and_then(|content| content["name"].as_str());
///     Ok(match (answer.action, name) {
///         (Action::Accept, Some(name)) => format!("Hello, {name}!"),
///         _ => "Hello, nobody!".to_owned(),
///     })
/// }
/// # let _ = greet::method::<()>();
/// ```
pub async fn elicit(
    cx: &Context<'_>,
    key: &str,
    message: &str,
    schema: Value,
) -> Result<Elicited, ErrorObject> {
    let request = json!({ "mode": "form", "message": message, "requestedSchema": schema });
    let enclosing = cx.enclosing_params();
    let envelope = enclosing
        .and_then(Params::from_text)
        .map(Envelope::of)
        .unwrap_or_default();
    if !envelope.is_modern() {
        let peer = crate::__private::peer(cx, "elicit")?;
        // A person answers: far longer than a program would take.
        let asking = peer.request("elicitation/create", request);
        return Ok(asking.timeout(ANSWER_TIME).await?);
    }
    if !envelope.declares("elicitation") {
        return Err(ErrorObject::server_error(
            MISSING_CLIENT_CAPABILITY,
            "Missing required client capability",
        )
        .with_data(json!({ "requiredCapabilities": { "elicitation": {} } })));
    }
    if let Some(answer) = enclosing.and_then(|params| answers(params).remove(key)) {
        return serde_json::from_value(answer)
            .map_err(|err| ErrorObject::invalid_params(format!("`inputResponses.{key}`: {err}")));
    }
    Err(
        ErrorObject::server_error(INPUT_REQUIRED, "Input required").with_data(json!({
            "key": key,
            "request": { "method": "elicitation/create", "params": request },
        })),
    )
}

/// The answers a retry carries: those of earlier rounds (kept in `requestState`, as JSON
/// text), and this round's `inputResponses`.
pub(super) fn answers(params: &str) -> Map<String, Value> {
    #[derive(Deserialize)]
    struct Retry {
        #[serde(default, rename = "inputResponses")]
        responses: Option<Map<String, Value>>,
        #[serde(default, rename = "requestState")]
        state: Option<String>,
    }
    let Ok(retry) = serde_json::from_str::<Retry>(params) else {
        return Map::new();
    };
    let mut answers: Map<String, Value> = retry
        .state
        .and_then(|state| serde_json::from_str(&state).ok())
        .unwrap_or_default();
    answers.extend(retry.responses.unwrap_or_default());
    answers
}
