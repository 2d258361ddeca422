//! What discovery needs the modules below it to carry, kept apart from discovery itself so
//! that they need not reach up to it: how a type's schema is made ([`TypeSchema`], carried
//! by method and param descriptions), the service's [`Info`], and `rpc.discover`'s document
//! as a router keeps it. The `openrpc` module reads the router and writes the document; the
//! router only holds what this module defines. (The `openrpc` feature.)

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::value::RawValue;

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

/// Every `TypeSchema` equals every other: a function has no reliable identity (two copies of
/// one may have different addresses), so equality of a [`MethodInfo`](crate::MethodInfo)
/// leaves schemas out.
impl PartialEq for TypeSchema {
    fn eq(&self, _: &Self) -> bool {
        true
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

/// `rpc.discover`'s `info`, and its document once made.
#[derive(Debug)]
pub(crate) struct Discovery {
    pub(crate) info: Info,
    pub(crate) document: OnceLock<Box<RawValue>>,
}

impl Discovery {
    pub(crate) fn new(info: Info) -> Self {
        Self {
            info,
            document: OnceLock::new(),
        }
    }

    /// Forgets the document made: the methods changed.
    pub(crate) fn forget(&mut self) {
        self.document = OnceLock::new();
    }
}
