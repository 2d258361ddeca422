//! `tools/list`: each method's name, doc comment and `inputSchema`, made once from the Rust
//! types.

use schemars::generate::SchemaSettings;
use schemars::SchemaGenerator;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::era::Envelope;
use super::Tools;
use crate::method::Callback;
use crate::{Method, MethodInfo, Params, Router};

/// `tools/list`'s result, in each era: every method that answers a call (not a
/// subscription), in registration order; the stateless era's says it is complete and may be
/// kept (by every client, for no time: `ttlMs` 0).
pub(super) fn list<S>(router: &Router<S>) -> [Box<RawValue>; 2] {
    let tools: Vec<Tool<'_>> = router
        .methods()
        .filter(|info| router.lookup(&info.name).is_some_and(is_tool))
        .map(describe)
        .collect();
    let handshake = json!({ "tools": tools });
    let modern = json!({
        "tools": tools,
        "resultType": "complete",
        "ttlMs": 0,
        "cacheScope": "public",
    });
    // JSON text made from a `Value` is valid JSON.
    [handshake, modern].map(|list| {
        RawValue::from_string(list.to_string()).unwrap_or_else(|_| Box::<RawValue>::default())
    })
}

/// Whether a method answers a call with a result: a tool.
pub(super) fn is_tool<S>(method: &Method<S>) -> bool {
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

/// `tools/list`: the list made at the start, in the request's era. (No pagination: the cursor
/// is ignored, and the whole list is one page.)
pub(super) fn list_method<S: Send + Sync + 'static>() -> Method<Tools<S>> {
    Method::from_sync_json(
        "tools/list",
        |tools: &Tools<S>, _, params: Params<'_>, out: &mut Vec<u8>| {
            let envelope = Envelope::of(params);
            envelope.check()?;
            let list = &tools.lists[usize::from(envelope.is_modern())];
            out.extend_from_slice(list.get().as_bytes());
            Ok(())
        },
    )
    .doc("Lists the tools, with the JSON Schema of each one's arguments.")
}
