//! The document itself: its objects, in the specification's field order, and how each method
//! is described.
//!
//! Params are described as the server reads them (schemars' deserialize contract), results
//! and subscription items as it writes them (the serialize contract): a field with a default
//! is optional in a param but always there in a result. The two sides' shared types go under
//! `components/schemas` together; a type whose two schemas differ gets a second name for its
//! output side (`PointOutput`).

use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::refs::{decode_pointer, merge_outputs, rename_refs};
use super::{Info, TypeSchema, DISCOVER, OPENRPC_VERSION};
use crate::{MethodInfo, ParamInfo};

/// Where shared schemas are defined in the document.
pub(super) const COMPONENTS: &str = "#/components/schemas/";

/// An OpenRPC document ([`Router::openrpc`](crate::Router::openrpc)): serialize it (its
/// fields in the order the specification lists them), or take it as JSON with
/// [`Document::to_value`].
#[derive(Clone, Debug, Serialize)]
pub struct Document {
    openrpc: &'static str,
    info: InfoObject,
    methods: Vec<MethodObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    components: Option<Components>,
}

impl Document {
    /// The document as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The document as indented JSON text, ending with a newline: for a file.
    pub fn to_pretty_string(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[derive(Clone, Debug, Serialize)]
struct InfoObject {
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    version: String,
}

#[derive(Clone, Debug, Serialize)]
struct Components {
    schemas: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MethodObject {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    params: Vec<Descriptor>,
    result: Descriptor,
    param_structure: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ErrorEntry>,
    #[serde(rename = "x-aliases", skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    #[serde(rename = "x-subscription", skip_serializing_if = "Option::is_none")]
    subscription: Option<SubscriptionObject>,
}

/// A content descriptor: a param, a result, a subscription's item.
#[derive(Clone, Debug, Serialize)]
struct Descriptor {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    required: Option<bool>,
    schema: Value,
}

impl Descriptor {
    fn new(name: impl Into<String>, schema: Value) -> Self {
        Self {
            name: name.into(),
            description: None,
            required: None,
            schema,
        }
    }

    fn required(name: impl Into<String>, required: bool, schema: Value) -> Self {
        Self {
            required: Some(required),
            ..Self::new(name, schema)
        }
    }
}

#[derive(Clone, Debug, Serialize)]
struct ErrorEntry {
    code: i32,
    message: String,
}

#[derive(Clone, Debug, Serialize)]
struct SubscriptionObject {
    notification: String,
    unsubscribe: String,
    item: Descriptor,
}

/// The two generators: params as read, results and items as written.
struct Generators {
    input: SchemaGenerator,
    output: SchemaGenerator,
}

/// The document of `methods`, in their order.
pub(super) fn document<'a>(methods: impl Iterator<Item = &'a MethodInfo>, info: &Info) -> Document {
    let settings = || {
        let mut settings = SchemaSettings::draft07();
        settings.definitions_path = COMPONENTS.into();
        settings.meta_schema = None;
        settings
    };
    let mut generators = Generators {
        input: settings().for_deserialize().into_generator(),
        output: settings().for_serialize().into_generator(),
    };
    let mut methods: Vec<MethodObject> = methods
        .map(|method| describe(method, &mut generators))
        .collect();
    let mut schemas = generators.input.take_definitions(true);
    let renamed = merge_outputs(&mut schemas, generators.output.take_definitions(true));
    if !renamed.is_empty() {
        for method in &mut methods {
            rename_refs(&mut method.result.schema, &renamed);
            if let Some(subscription) = &mut method.subscription {
                rename_refs(&mut subscription.item.schema, &renamed);
            }
        }
    }
    Document {
        openrpc: OPENRPC_VERSION,
        info: InfoObject {
            title: info.title.to_string(),
            description: info.description.as_deref().map(str::to_owned),
            version: info.version.to_string(),
        },
        methods,
        components: (!schemas.is_empty()).then_some(Components { schemas }),
    }
}

/// One method object.
fn describe(method: &MethodInfo, generators: &mut Generators) -> MethodObject {
    let doc = method.doc.trim();
    let summary = (!doc.is_empty()).then(|| summary(doc));
    let description = summary
        .as_ref()
        .filter(|summary| summary.as_str() != doc)
        .map(|_| doc.to_owned());
    let (params, structure) = describe_params(&method.params, &mut generators.input);
    let result = match &method.subscription {
        Some(_) => Descriptor {
            description: Some("The subscription's id: its notifications carry it, and its unsubscribe method takes it."),
            ..Descriptor::new("subscription", json!({ "type": "string" }))
        },
        None if method.name == DISCOVER => Descriptor {
            description: Some("This document: an OpenRPC 1.3.2 document (https://meta.open-rpc.org/)."),
            ..Descriptor::new(
                "OpenRPC Schema",
                json!({
                    "type": "object",
                    "required": ["openrpc", "info", "methods"],
                    "properties": {
                        "openrpc": { "type": "string" },
                        "info": { "type": "object", "properties": {} },
                        "methods": { "type": "array", "items": { "type": "object", "properties": {} } },
                        "components": { "type": "object", "properties": {} },
                    },
                }),
            )
        },
        None => Descriptor::new(
            "result",
            schema_of(method.result_schema, &mut generators.output),
        ),
    };
    MethodObject {
        name: method.name.to_string(),
        summary,
        description,
        params,
        result,
        param_structure: structure,
        errors: method
            .errors
            .iter()
            .map(|(code, message)| ErrorEntry {
                code: *code,
                message: message.to_string(),
            })
            .collect(),
        aliases: method.aliases.iter().map(ToString::to_string).collect(),
        subscription: method
            .subscription
            .as_ref()
            .map(|subscription| SubscriptionObject {
                notification: subscription.notification.to_string(),
                unsubscribe: subscription.unsubscribe.to_string(),
                item: Descriptor::new(
                    "result",
                    schema_of(subscription.item_schema, &mut generators.output),
                ),
            }),
    }
}

/// The params in positional order, and how they may be given.
///
/// OpenRPC lists required params first. An `Option` param before a required one must be
/// given by position all the same (as `null`), so it is described as required, with `null`
/// allowed; the others are not required. A nameless param (a method built by hand) is named
/// by its position.
fn describe_params(
    params: &[ParamInfo],
    generator: &mut SchemaGenerator,
) -> (Vec<Descriptor>, &'static str) {
    if let Some(whole) = params.iter().find(|param| param.whole) {
        return whole_params(whole, generator);
    }
    let last_required = params.iter().rposition(|param| !param.optional);
    let described = params
        .iter()
        .enumerate()
        .map(|(at, param)| {
            let name = match param.name.as_ref() {
                "" => format!("param{at}"),
                name => name.to_owned(),
            };
            let schema = schema_of(param.schema, generator);
            let before_required = last_required.is_some_and(|last| at < last);
            match (param.optional, before_required) {
                (true, true) => Descriptor::required(
                    name,
                    true,
                    json!({ "anyOf": [schema, { "type": "null" }] }),
                ),
                (optional, _) => Descriptor::required(name, !optional, schema),
            }
        })
        .collect();
    (described, "either")
}

/// The params of a method that takes them whole (`#[rpc(params)]`), from its type's schema:
/// an object's fields, by name (required ones first, in field order, then the others); a
/// tuple's items, by position; anything else, one param standing for the whole params.
fn whole_params(
    param: &ParamInfo,
    generator: &mut SchemaGenerator,
) -> (Vec<Descriptor>, &'static str) {
    let schema = schema_of(param.schema, generator);
    let resolved = resolve(&schema, generator).unwrap_or_else(|| schema.clone());
    if let Some(properties) = resolved.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = resolved
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let first = required.iter().filter_map(|name| {
            let schema = properties.get(*name)?;
            Some(Descriptor::required(*name, true, schema.clone()))
        });
        let rest = properties
            .iter()
            .filter(|(name, _)| !required.contains(&name.as_str()))
            .map(|(name, schema)| Descriptor::required(name.as_str(), false, schema.clone()));
        return (first.chain(rest).collect(), "by-name");
    }
    if let Some(items) = resolved.get("items").and_then(Value::as_array) {
        let described = items
            .iter()
            .enumerate()
            .map(|(at, schema)| {
                Descriptor::required(format!("{}{at}", param.name), true, schema.clone())
            })
            .collect();
        return (described, "by-position");
    }
    (
        vec![Descriptor::required(
            param.name.as_ref(),
            !param.optional,
            schema,
        )],
        "either",
    )
}

/// The definition a `$ref` schema points to, in draft-07 terms.
fn resolve(schema: &Value, generator: &mut SchemaGenerator) -> Option<Value> {
    let reference = schema.get("$ref")?.as_str()?;
    let name = decode_pointer(reference.strip_prefix(COMPONENTS)?);
    let definition = generator.definitions().get(&name)?.clone();
    let mut definition = Schema::try_from(definition).ok()?;
    for transform in generator.transforms_mut() {
        transform.transform(&mut definition);
    }
    Some(definition.to_value())
}

/// The first paragraph of a doc comment, on one line.
fn summary(doc: &str) -> String {
    let paragraph = doc.split("\n\n").next().unwrap_or(doc);
    paragraph.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A schema, in draft-07 terms (the generator's transforms applied), or the empty schema
/// (also for the schema `true`, which some tools read poorly).
fn schema_of(schema: Option<TypeSchema>, generator: &mut SchemaGenerator) -> Value {
    let Some(schema) = schema else {
        return json!({});
    };
    let mut schema = schema.generate(generator);
    for transform in generator.transforms_mut() {
        transform.transform(&mut schema);
    }
    match schema.to_value() {
        Value::Bool(true) => json!({}),
        schema => schema,
    }
}
