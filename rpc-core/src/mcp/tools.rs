//! The tools: `tools/list` (each method's name, doc comment and `inputSchema`, made once from
//! the Rust types) and `tools/call` (the method called on the call's `arguments`, its result
//! or its error as the call's result).

use schemars::generate::SchemaSettings;
use schemars::SchemaGenerator;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::Tools;
use crate::method::Callback;
use crate::response::write_json;
use crate::{Context, ErrorObject, Method, MethodInfo, Params, Router};

/// `tools/list`'s result: every method that answers a call (not a subscription), in
/// registration order.
pub(super) fn list<S>(router: &Router<S>) -> Box<RawValue> {
    let tools: Vec<Tool<'_>> = router
        .methods()
        .filter(|info| router.lookup(&info.name).is_some_and(is_tool))
        .map(describe)
        .collect();
    let text = json!({ "tools": tools }).to_string();
    // JSON text made from a `Value` is valid JSON.
    RawValue::from_string(text).unwrap_or_else(|_| empty_list())
}

fn empty_list() -> Box<RawValue> {
    RawValue::from_string(r#"{"tools":[]}"#.to_owned()).unwrap_or_default()
}

/// Whether a method answers a call with a result: a tool.
fn is_tool<S>(method: &Method<S>) -> bool {
    matches!(method.callback, Callback::Sync(_) | Callback::Async(_))
}

/// One tool, as `tools/list` tells it.
#[derive(Serialize)]
struct Tool<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(rename = "inputSchema")]
    input_schema: Map<String, Value>,
}

/// One tool: its name, its doc comment, and its parameters as one object's JSON Schema.
fn describe(info: &MethodInfo) -> Tool<'_> {
    let mut settings = SchemaSettings::draft2020_12().for_deserialize();
    settings.meta_schema = None;
    let mut generator = settings.into_generator();
    let mut schema = input_schema(info, &mut generator);
    let definitions = generator.take_definitions(true);
    if !definitions.is_empty() {
        schema.insert("$defs".into(), Value::Object(definitions));
    }
    let doc = info.doc.trim();
    Tool {
        name: &info.name,
        description: (!doc.is_empty()).then_some(doc),
        input_schema: schema,
    }
}

/// The parameters as the members of one object: a tool's arguments are always by name.
fn input_schema(info: &MethodInfo, generator: &mut SchemaGenerator) -> Map<String, Value> {
    if let Some(whole) = info.params.iter().find(|param| param.whole) {
        // The struct that stands for the params: its own schema, with its members.
        let schema = schema_of(whole.schema, generator);
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference
                .strip_prefix("#/$defs/")
                .and_then(|name| generator.definitions().get(name).cloned())
                .unwrap_or(schema),
            None => schema,
        };
        if let Value::Object(mut object) = schema {
            object.insert("type".into(), Value::from("object"));
            return object;
        }
    }
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (at, param) in info.params.iter().enumerate() {
        let name = match param.name.as_ref() {
            "" => format!("param{at}"),
            name => name.to_owned(),
        };
        if !param.optional {
            required.push(Value::from(name.as_str()));
        }
        properties.insert(name, schema_of(param.schema, generator));
    }
    let mut schema = Map::new();
    schema.insert("type".into(), Value::from("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    schema
}

/// A parameter's schema, or the empty one (anything) when its type has none.
fn schema_of(schema: Option<crate::openrpc::TypeSchema>, generator: &mut SchemaGenerator) -> Value {
    match schema {
        Some(schema) => match schema.generate(generator).to_value() {
            Value::Bool(true) => json!({}),
            value => value,
        },
        None => json!({}),
    }
}

/// `tools/list`: the list made at the start. (No pagination: the cursor is ignored, and the
/// whole list is one page.)
pub(super) fn list_method<S: Send + Sync + 'static>() -> Method<Tools<S>> {
    Method::from_sync_json("tools/list", |tools: &Tools<S>, _, _, out: &mut Vec<u8>| {
        out.extend_from_slice(tools.list.get().as_bytes());
        Ok(())
    })
    .doc("Lists the tools, with the JSON Schema of each one's arguments.")
}

/// What `tools/call` asks.
#[derive(Deserialize)]
struct Call<'a> {
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<&'a RawValue>,
}

/// `tools/call`: the tool runs on the arguments, with the request's `_meta` in its context.
pub(super) fn call_method<S: Send + Sync + 'static>() -> Method<Tools<S>> {
    Method::from_async_json(
        "tools/call",
        |tools: &Tools<S>, cx: &Context<'_>, params: Params<'_>| {
            Box::pin(async move {
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
                let cx = match call.meta {
                    Some(meta) => cx.with_meta(meta),
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
                let mut out = Vec::with_capacity(result.len() + 64);
                match ran {
                    Ok(()) => write_result(&mut out, &result)?,
                    Err(error) => write_error(&mut out, &error)?,
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

/// A tool's result: as text (a string as itself, anything else as its JSON text), and an
/// object as `structuredContent` too.
fn write_result(out: &mut Vec<u8>, result: &[u8]) -> Result<(), ErrorObject> {
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
    out.extend_from_slice(br#","isError":false}"#);
    Ok(())
}

/// A tool's error, as the protocol wants a tool's failure told: a result with `isError`,
/// whose text is the error's message and its data.
fn write_error(out: &mut Vec<u8>, error: &ErrorObject) -> Result<(), ErrorObject> {
    let text = match error.data().map(RawValue::get) {
        None => error.message().to_owned(),
        Some(data) => match serde_json::from_str::<String>(data) {
            Ok(data) => format!("{}: {data}", error.message()),
            Err(_) => format!("{}: {data}", error.message()),
        },
    };
    out.extend_from_slice(br#"{"content":[{"type":"text","text":"#);
    write_json(out, &text)?;
    out.extend_from_slice(br#"}],"isError":true}"#);
    Ok(())
}
