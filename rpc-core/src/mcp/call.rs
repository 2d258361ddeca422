//! `tools/call`: the tool runs on the call's `arguments`, with the whole request's params in
//! its context; its result, its error, or its question to the user is the call's result.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::ask::{answers, INPUT_REQUIRED};
use super::era::Envelope;
use super::tools::is_tool;
use super::Tools;
use crate::method::Callback;
use crate::response::write_json;
use crate::{Context, ErrorObject, Method, Params};

/// What `tools/call` asks.
#[derive(Deserialize)]
struct Call<'a> {
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

/// `tools/call`.
pub(super) fn call_method<S: Send + Sync + 'static>() -> Method<Tools<S>> {
    Method::from_async_json(
        "tools/call",
        |tools: &Tools<S>, cx: &Context<'_>, params: Params<'_>| {
            Box::pin(async move {
                let envelope = Envelope::of(params);
                envelope.check()?;
                let call: Call<'_> = params.parse()?;
                let tool = tools
                    .tools
                    .lookup(&call.name)
                    .filter(|method| is_tool(method))
                    .ok_or_else(|| unknown(&call.name))?;
                let arguments = match call.arguments {
                    Some(raw) => Params::from_raw(raw).ok_or_else(|| {
                        ErrorObject::invalid_params("`arguments` must be an object")
                    })?,
                    None => Params::NONE,
                };
                // The tool sees the request's `_meta` (its progress token, its era) and the
                // answers of a retry, beside its arguments.
                let cx = match params.raw() {
                    Some(whole) => cx.with_enclosing_params(whole),
                    None => *cx,
                };
                let state = tools.tools.state();
                let mut result = Vec::new();
                let ran = match &tool.callback {
                    Callback::Sync(run) => run(state, &cx, arguments, &mut result),
                    Callback::Async(run) => run(state, &cx, arguments).await.map(|out| {
                        result = out;
                    }),
                    _ => Err(unknown(&call.name)),
                };
                let modern = envelope.is_modern();
                let mut out = Vec::with_capacity(result.len() + 64);
                match ran {
                    Ok(()) => write_result(&mut out, &result, modern)?,
                    Err(error) if modern && error.code() == INPUT_REQUIRED => {
                        write_input_required(&mut out, &error, params.raw())?;
                    }
                    Err(error) if is_protocol_error(&error) => return Err(error),
                    Err(error) => write_error(&mut out, &error, modern)?,
                }
                Ok(out)
            })
        },
    )
    .doc("Calls a tool with its arguments.")
}

fn unknown(name: &str) -> ErrorObject {
    ErrorObject::invalid_params(format!("Unknown tool: {name}"))
}

/// An error a tool passes on that is the protocol's, not the tool's: the client lacks a
/// capability, or speaks another version.
fn is_protocol_error(error: &ErrorObject) -> bool {
    matches!(
        error.code(),
        super::era::MISSING_CLIENT_CAPABILITY | super::era::UNSUPPORTED_PROTOCOL_VERSION
    )
}

/// A tool's result: as text (a string as itself, anything else as its JSON text), and an
/// object as `structuredContent` too.
fn write_result(out: &mut Vec<u8>, result: &[u8], modern: bool) -> Result<(), ErrorObject> {
    let text = std::str::from_utf8(result).map_err(|_| ErrorObject::internal_error())?;
    let text_content = match serde_json::from_str::<String>(text) {
        Ok(string) => string,
        Err(_) => text.to_owned(),
    };
    out.extend_from_slice(br#"{"content":[{"type":"text","text":"#);
    write_json(out, &text_content)?;
    out.extend_from_slice(b"}]");
    if text.starts_with('{') {
        out.extend_from_slice(br#","structuredContent":"#);
        out.extend_from_slice(result);
    }
    out.extend_from_slice(br#","isError":false"#);
    close(out, modern);
    Ok(())
}

/// A tool's error, as the protocol wants a tool's failure told: a result with `isError`,
/// whose text is the error's message and its data.
fn write_error(out: &mut Vec<u8>, error: &ErrorObject, modern: bool) -> Result<(), ErrorObject> {
    let text = match error.data().map(RawValue::get) {
        None => error.message().to_owned(),
        Some(data) => match serde_json::from_str::<String>(data) {
            Ok(data) => format!("{}: {data}", error.message()),
            Err(_) => format!("{}: {data}", error.message()),
        },
    };
    out.extend_from_slice(br#"{"content":[{"type":"text","text":"#);
    write_json(out, &text)?;
    out.extend_from_slice(br#"}],"isError":true"#);
    close(out, modern);
    Ok(())
}

/// Ends a result; the stateless era's says it is complete.
fn close(out: &mut Vec<u8>, modern: bool) {
    if modern {
        out.extend_from_slice(br#","resultType":"complete""#);
    }
    out.push(b'}');
}

/// The stateless era's question to the user, in place of a result: the client asks, then
/// calls again with the answer. The answers of earlier rounds ride in `requestState`.
fn write_input_required(
    out: &mut Vec<u8>,
    error: &ErrorObject,
    params: Option<&str>,
) -> Result<(), ErrorObject> {
    #[derive(Deserialize)]
    struct Asked<'a> {
        #[serde(borrow)]
        key: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        request: &'a RawValue,
    }
    let asked: Asked<'_> = error
        .data_as()
        .and_then(Result::ok)
        .ok_or_else(ErrorObject::internal_error)?;
    let so_far = params.map(answers).unwrap_or_default();
    out.extend_from_slice(br#"{"resultType":"input_required","inputRequests":{"#);
    write_json(out, asked.key.as_ref())?;
    out.push(b':');
    out.extend_from_slice(asked.request.get().as_bytes());
    out.push(b'}');
    if !so_far.is_empty() {
        out.extend_from_slice(br#","requestState":"#);
        write_json(out, &Value::Object(so_far).to_string())?;
    }
    out.push(b'}');
    Ok(())
}
