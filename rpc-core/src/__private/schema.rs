//! What the attributes generate for discovery (the `openrpc` feature of `rpc-macros`): probes
//! that find a type's schema when it has one, and the builders that record it, which exist
//! (and do nothing) without rpc-core's `openrpc` feature too.

use std::fmt;

use crate::{Method, ParamInfo};

/// Probes a type for its schema: generated code calls `(&SchemaProbe::<T>::NEW).__rpc_schema()`,
/// and method resolution picks [`KnownSchema`] when `T: JsonSchema` (with the `openrpc`
/// feature), falling back to [`UnknownSchema`] (no schema: the empty one in the document) by
/// auto-reference. A type without a schema never fails the build, and neither does the
/// attribute's `openrpc` code meeting an rpc-core built without the feature.
pub struct SchemaProbe<T: ?Sized>(std::marker::PhantomData<*const T>);

impl<T: ?Sized> SchemaProbe<T> {
    /// The probe.
    pub const NEW: Self = Self(std::marker::PhantomData);
}

impl<T: ?Sized> Clone for SchemaProbe<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for SchemaProbe<T> {}

impl<T: ?Sized> fmt::Debug for SchemaProbe<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SchemaProbe")
    }
}

/// A type's schema, if known: `TypeSchema` with the `openrpc` feature, never anything without.
#[cfg(feature = "openrpc")]
pub type MaybeSchema = Option<crate::openrpc::TypeSchema>;

/// A type's schema, if known: `TypeSchema` with the `openrpc` feature, never anything without.
#[cfg(not(feature = "openrpc"))]
pub type MaybeSchema = Option<std::convert::Infallible>;

/// A type with a schema.
pub trait KnownSchema {
    /// How its schema is made.
    fn __rpc_schema(&self) -> MaybeSchema;
}

#[cfg(feature = "openrpc")]
impl<T: ?Sized + schemars::JsonSchema> KnownSchema for SchemaProbe<T> {
    fn __rpc_schema(&self) -> MaybeSchema {
        Some(crate::openrpc::TypeSchema::of::<T>())
    }
}

/// A type without one.
pub trait UnknownSchema {
    /// None.
    fn __rpc_schema(&self) -> MaybeSchema {
        None
    }
}

impl<T: ?Sized> UnknownSchema for &SchemaProbe<T> {}

/// Probes a method's return type for its result's schema, by type as [`Wrap`](super::Wrap) does for the
/// value (a `Result` alias is seen through): generated code calls
/// `(&&&SchemaProbe::<R>::NEW).__rpc_result_schema()`. Each level takes `self` by value, so
/// method resolution tries them in order: a `Result` whose `Ok` type has a schema, any other
/// `Result` (none: the error is not the result), a type with a schema, then none.
pub trait OkSchema {
    /// The `Ok` type's schema.
    fn __rpc_result_schema(self) -> MaybeSchema;
}

#[cfg(feature = "openrpc")]
impl<T: schemars::JsonSchema, E> OkSchema for &&&SchemaProbe<Result<T, E>> {
    fn __rpc_result_schema(self) -> MaybeSchema {
        Some(crate::openrpc::TypeSchema::of::<T>())
    }
}

/// A `Result` whose `Ok` type has no schema.
pub trait OkWithoutSchema {
    /// None.
    fn __rpc_result_schema(self) -> MaybeSchema;
}

impl<T, E> OkWithoutSchema for &&SchemaProbe<Result<T, E>> {
    fn __rpc_result_schema(self) -> MaybeSchema {
        None
    }
}

/// A plain return type with a schema.
pub trait ValueSchema {
    /// Its schema.
    fn __rpc_result_schema(self) -> MaybeSchema;
}

#[cfg(feature = "openrpc")]
impl<T: ?Sized + schemars::JsonSchema> ValueSchema for &SchemaProbe<T> {
    fn __rpc_result_schema(self) -> MaybeSchema {
        Some(crate::openrpc::TypeSchema::of::<T>())
    }
}

/// A plain return type without one.
pub trait ValueWithoutSchema {
    /// None.
    fn __rpc_result_schema(self) -> MaybeSchema;
}

impl<T: ?Sized> ValueWithoutSchema for SchemaProbe<T> {
    fn __rpc_result_schema(self) -> MaybeSchema {
        None
    }
}

impl<S> Method<S> {
    /// Sets the result's schema if known and the `openrpc` feature is on (the attribute's).
    #[doc(hidden)]
    #[must_use]
    pub fn __result_schema(self, schema: crate::__private::MaybeSchema) -> Self {
        #[cfg(feature = "openrpc")]
        return self.result_schema(schema);
        #[cfg(not(feature = "openrpc"))]
        {
            let _ = schema;
            self
        }
    }

    /// Sets the items' schema if known and the `openrpc` feature is on (the attribute's).
    #[doc(hidden)]
    #[must_use]
    pub fn __item_schema(self, schema: crate::__private::MaybeSchema) -> Self {
        #[cfg(feature = "openrpc")]
        return self.item_schema(schema);
        #[cfg(not(feature = "openrpc"))]
        {
            let _ = schema;
            self
        }
    }
}

impl ParamInfo {
    /// Sets its schema if known and the `openrpc` feature is on (the attribute's).
    #[doc(hidden)]
    #[must_use]
    pub fn __schema(self, schema: crate::__private::MaybeSchema) -> Self {
        #[cfg(feature = "openrpc")]
        return self.schema(schema);
        #[cfg(not(feature = "openrpc"))]
        {
            let _ = schema;
            self
        }
    }
}
