//! Discovery (the `openrpc` feature): an [OpenRPC](https://spec.open-rpc.org) document of a
//! router's methods, made from what the attributes know about each (names, doc comments,
//! parameters, types as JSON Schema), produced by [`Router::openrpc`] and served as the
//! method `rpc.discover` by [`Router::discover`].
//!
//! ```
//! use rpc_core::openrpc::Info;
//! use rpc_core::{rpc_method, Router};
//!
//! /// Adds two integers.
//! #[rpc_method]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! let mut router = Router::new();
//! router.register(add::method())?;
//! let document = router.openrpc(&Info::new("calculator", "1.0.0")).to_value();
//! assert_eq!(document["openrpc"], "1.3.2");
//! assert_eq!(document["methods"][0]["summary"], "Adds two integers.");
//! assert_eq!(document["methods"][0]["params"][1]["name"], "b");
//! assert_eq!(document["methods"][0]["params"][1]["schema"]["type"], "integer");
//! // Served as `rpc.discover`, built at its first call and kept.
//! router.discover(Info::new("calculator", "1.0.0"))?;
//! # Ok::<(), rpc_core::RegisterError>(())
//! ```
//!
//! # The version: OpenRPC 1.3.2
//!
//! The document declares `"openrpc": "1.3.2"`, the last 1.3 release, whose official
//! meta-schema (the one the tests validate against) lists the released versions up to it;
//! the 1.4 meta-schema accepts only `1.4.x`. 1.3 is what the playground, the generators and
//! the libraries of the OpenRPC project read today, and a 1.3 document uses nothing 1.4 added.
//!
//! # Schemas
//!
//! Types are described in JSON Schema draft-07, OpenRPC's dialect, by
//! [`schemars`](https://docs.rs/schemars) (re-exported as [`rpc_core::schemars`](crate::schemars)):
//! derive `JsonSchema` on your own types. A type used by more than one method is defined once
//! under `components/schemas` and referenced as `{"$ref": "#/components/schemas/Name"}`;
//! tuples come out as draft-07 `items` arrays, recursive types as references to themselves.
//!
//! A type without a `JsonSchema` implementation does not stop the build: its schema is the
//! empty one (anything), as for methods built by hand without [`ParamInfo::schema`]. That
//! keeps a workspace building when one of its crates turns the feature on.
//!
//! # What each method says
//!
//! | field | from |
//! |---|---|
//! | `name` | the wire name |
//! | `summary`, `description` | the doc comment: its first paragraph, and the whole |
//! | `params` | in positional order: each wire parameter's name, `required` (`false` for an `Option`, described by its inner type), `schema` |
//! | `result` | the `Ok` type of a `Result`, or the type returned |
//! | `paramStructure` | `"either"`: both shapes are accepted; `"by-name"` for `#[rpc(params)]` methods, whose fields are listed by name |
//! | `errors` | the attribute's `errors(CODE = "message", ...)` |
//! | `x-subscription` | for a subscription: its `notification`, `unsubscribe` method and `item` schema |

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::router::Refusal;
use crate::{ErrorObject, Method, MethodInfo, ParamInfo, Params, RegisterError, Router};

/// The version of the OpenRPC specification the document follows.
pub const OPENRPC_VERSION: &str = "1.3.2";

/// The name OpenRPC reserves for the method that returns the document; the only `rpc.` name
/// a router takes.
pub const DISCOVER: &str = "rpc.discover";

/// `rpc.discover`'s `info`, and its document once made.
#[derive(Debug)]
pub(crate) struct Discovery {
    info: Info,
    document: OnceLock<Box<RawValue>>,
}

impl<S> Router<S> {
    /// The OpenRPC document of every method registered, in registration order (a
    /// subscription's unsubscribe method right after it), as JSON: to write to a file in a
    /// build step or a test, or to serve some other way.
    pub fn openrpc(&self, info: &Info) -> Document {
        document(self.methods(), info)
    }

    /// Forgets the document made for `rpc.discover`: the methods changed.
    pub(crate) fn forget_document(&mut self) {
        if let Some(discovery) = &mut self.discovery {
            discovery.document = OnceLock::new();
        }
    }

    /// Writes `rpc.discover`'s answer: the document, made at the first call and kept, copied.
    /// Params may be absent, `[]` or `{}`.
    pub(crate) fn write_document(
        &self,
        params: Params<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), ErrorObject> {
        let empty = params.raw().is_none_or(|raw| {
            let inner = raw.trim();
            inner.len() >= 2 && inner[1..inner.len() - 1].trim().is_empty()
        });
        if !empty {
            return Err(ErrorObject::invalid_params("rpc.discover takes no params"));
        }
        let Some(discovery) = &self.discovery else {
            return Err(ErrorObject::method_not_found());
        };
        let document = discovery.document.get_or_init(|| {
            let document = self.openrpc(&discovery.info);
            serde_json::value::to_raw_value(&document).unwrap_or_else(|_| RawValue::NULL.to_owned())
        });
        out.extend_from_slice(document.get().as_bytes());
        Ok(())
    }
}

impl<S: Send + Sync + 'static> Router<S> {
    /// Serves the OpenRPC document of every method registered, with this `info`, as the
    /// method `rpc.discover` (for params absent, `[]` or `{}`). The document is made at its
    /// first call and kept; registering another method later makes it again.
    ///
    /// ```
    /// use rpc_core::Router;
    ///
    /// let mut router = Router::new();
    /// router.discover(rpc_core::openrpc_info!())?;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let answer = router
    ///     .handle(br#"{"jsonrpc":"2.0","method":"rpc.discover","id":1}"#)
    ///     .await
    ///     .unwrap();
    /// let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    /// assert_eq!(answer["result"]["openrpc"], "1.3.2");
    /// assert_eq!(answer["result"]["methods"][0]["name"], "rpc.discover");
    /// # });
    /// # Ok::<(), rpc_core::RegisterError>(())
    /// ```
    pub fn discover(&mut self, info: Info) -> Result<&mut Self, RegisterError> {
        if self.method_info(DISCOVER).is_some() {
            return Err(RegisterError::new(DISCOVER, Refusal::Duplicate));
        }
        self.discovery = Some(Box::new(Discovery {
            info,
            document: OnceLock::new(),
        }));
        self.insert(Method::discoverer());
        Ok(self)
    }
}

/// Where shared schemas are defined in the document.
const COMPONENTS: &str = "#/components/schemas/";

/// How a type's schema is made: the type's [`JsonSchema`] implementation, kept as a function
/// so that nothing is generated before a document is asked for.
#[derive(Clone, Copy)]
pub struct TypeSchema(fn(&mut SchemaGenerator) -> Schema);

impl TypeSchema {
    /// The schema of `T`.
    pub fn of<T: ?Sized + JsonSchema>() -> Self {
        Self(|generator| generator.subschema_for::<T>())
    }

    /// Generates the schema (a reference, for a type defined once in the generator's
    /// definitions).
    pub fn generate(&self, generator: &mut SchemaGenerator) -> Schema {
        (self.0)(generator)
    }
}

impl PartialEq for TypeSchema {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl Eq for TypeSchema {}

impl fmt::Debug for TypeSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TypeSchema")
    }
}

/// The document's `info`: the service's title and version, and a description.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// The service's title.
    pub title: Cow<'static, str>,
    /// The service's version (not OpenRPC's).
    pub version: Cow<'static, str>,
    /// What the service is.
    pub description: Option<Cow<'static, str>>,
}

impl Info {
    /// A title and a version. [`openrpc_info!`](crate::openrpc_info) takes both from your
    /// crate's manifest.
    pub fn new(title: impl Into<Cow<'static, str>>, version: impl Into<Cow<'static, str>>) -> Self {
        Self {
            title: title.into(),
            version: version.into(),
            description: None,
        }
    }

    /// Sets the description (an empty one is left out).
    #[must_use]
    pub fn description(mut self, description: impl Into<Cow<'static, str>>) -> Self {
        let description = description.into();
        self.description = (!description.is_empty()).then_some(description);
        self
    }
}

/// The [`Info`] of the crate it is written in: its name, version and description, from its
/// manifest.
///
/// ```
/// let info = rpc_core::openrpc_info!();
/// assert_eq!(info.title, "rpc-core");
/// ```
#[macro_export]
macro_rules! openrpc_info {
    () => {
        $crate::openrpc::Info::new(
            ::core::env!("CARGO_PKG_NAME"),
            ::core::env!("CARGO_PKG_VERSION"),
        )
        .description(::core::env!("CARGO_PKG_DESCRIPTION"))
    };
}

/// An OpenRPC document ([`Router::openrpc`]): serialize it (its fields in the order the
/// specification lists them), or take it as JSON with [`Document::to_value`].
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

/// The document of `methods`, in their order.
pub(crate) fn document<'a>(methods: impl Iterator<Item = &'a MethodInfo>, info: &Info) -> Document {
    let mut settings = SchemaSettings::draft07();
    settings.definitions_path = COMPONENTS.into();
    settings.meta_schema = None;
    let mut generator = settings.into_generator();
    let methods = methods
        .map(|method| describe(method, &mut generator))
        .collect();
    let schemas = generator.take_definitions(true);
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
fn describe(method: &MethodInfo, generator: &mut SchemaGenerator) -> MethodObject {
    let doc = method.doc.trim();
    let summary = (!doc.is_empty()).then(|| summary(doc));
    let description = summary
        .as_ref()
        .filter(|summary| summary.as_str() != doc)
        .map(|_| doc.to_owned());
    let mut by_name = false;
    let mut params = Vec::new();
    // OpenRPC lists required params first: an optional one before a required one must be
    // given by position all the same (as `null`), so it is described so.
    let last_required = method.params.iter().rposition(|param| !param.optional);
    for (at, param) in method.params.iter().enumerate() {
        let schema = schema_of(param.schema, generator);
        if param.whole {
            by_name = true;
            params.extend(whole_params(param, schema, generator));
            continue;
        }
        let before_required = last_required.is_some_and(|last| at < last);
        let (required, schema) = match (param.optional, before_required) {
            (true, true) => (true, json!({ "anyOf": [schema, { "type": "null" }] })),
            (optional, _) => (!optional, schema),
        };
        params.push(Descriptor {
            required: Some(required),
            ..Descriptor::new(param.name.as_ref(), schema)
        });
    }
    let result = match &method.subscription {
        Some(_) => Descriptor {
            description: Some("The subscription's id: its notifications carry it, and its unsubscribe method takes it."),
            ..Descriptor::new("subscription", json!({ "type": "string" }))
        },
        None if method.name == DISCOVER => Descriptor {
            description: Some("This document: an OpenRPC 1.3.2 document (https://meta.open-rpc.org/)."),
            ..Descriptor::new("OpenRPC Schema", json!({ "type": "object" }))
        },
        None => Descriptor::new("result", schema_of(method.result_schema, generator)),
    };
    MethodObject {
        name: method.name.to_string(),
        summary,
        description,
        params,
        result,
        param_structure: if by_name { "by-name" } else { "either" },
        errors: method
            .errors
            .iter()
            .map(|(code, message)| ErrorEntry {
                code: *code,
                message: message.to_string(),
            })
            .collect(),
        subscription: method
            .subscription
            .as_ref()
            .map(|subscription| SubscriptionObject {
                notification: subscription.notification.to_string(),
                unsubscribe: subscription.unsubscribe.to_string(),
                item: Descriptor::new("result", schema_of(subscription.item_schema, generator)),
            }),
    }
}

/// The first paragraph of a doc comment, on one line.
fn summary(doc: &str) -> String {
    let paragraph = doc.split("\n\n").next().unwrap_or(doc);
    paragraph.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A schema, in draft-07 terms (the generator's transforms applied), or the empty schema.
fn schema_of(schema: Option<TypeSchema>, generator: &mut SchemaGenerator) -> Value {
    let Some(schema) = schema else {
        return json!({});
    };
    let mut schema = schema.generate(generator);
    for transform in generator.transforms_mut() {
        transform.transform(&mut schema);
    }
    schema.to_value()
}

/// The parameters of a method that takes its params whole (`#[rpc(params)]`): the fields of
/// the type's object schema, by name; one parameter of the type's schema if it has none.
fn whole_params(
    param: &ParamInfo,
    schema: Value,
    generator: &mut SchemaGenerator,
) -> Vec<Descriptor> {
    let object = match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix(COMPONENTS)
            .and_then(|name| generator.definitions().get(name))
            .cloned()
            .and_then(|definition| Schema::try_from(definition).ok())
            .map(|mut definition| {
                for transform in generator.transforms_mut() {
                    transform.transform(&mut definition);
                }
                definition.to_value()
            }),
        None => Some(schema.clone()),
    };
    let fields = object.as_ref().and_then(|object| {
        let properties = object.get("properties")?.as_object()?;
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        Some(
            properties
                .iter()
                .map(|(name, schema)| Descriptor {
                    required: Some(required.contains(&name.as_str())),
                    ..Descriptor::new(name.as_str(), schema.clone())
                })
                .collect::<Vec<_>>(),
        )
    });
    fields.unwrap_or_else(|| {
        vec![Descriptor {
            required: Some(!param.optional),
            ..Descriptor::new(param.name.as_ref(), schema)
        }]
    })
}
