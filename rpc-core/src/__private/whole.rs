//! Decoding the whole params as one type (`#[rpc(params)] filter: Filter`), as strictly as
//! parameters one by one: an unknown name is an error, and an error names its parameter.
//!
//! serde's derive skips unknown fields with `IgnoredAny`. The params' top-level object is read
//! through wrappers that remember the key being decoded and turn that skip into an error.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::error::params::{shown, ParamsError};
use crate::params::serde_error_message;
use crate::{ErrorObject, Params};

/// Decodes the params as a `T`, refusing names `T` does not know. Absent params are `None`
/// for an `Option`, and `{}` for any other type. `T` may be an `Option` of a struct, or a
/// newtype around one: the struct is as strict inside them.
pub fn decode_whole<'de, T: Deserialize<'de>>(params: Params<'de>) -> Result<T, ErrorObject> {
    if params.raw().is_none() {
        if let Ok(none) = crate::__private::not_given::<T>() {
            return Ok(none);
        }
    }
    let text = params.raw().unwrap_or("{}");
    let state = State::default();
    let mut json = serde_json::Deserializer::from_str(text);
    let decoded = T::deserialize(Strict {
        inner: &mut json,
        state: &state,
    })
    .and_then(|value| json.end().map(|()| value));
    decoded.map_err(|err| {
        let reason = serde_error_message(&err);
        let fields = state.fields.get();
        let position = |name: &str| fields.iter().position(|field| *field == name);
        let fault = match (state.fault.take(), state.in_value.get(), state.key.take()) {
            (Some(fault), _, _) => fault,
            (None, true, Some(key)) => {
                let at = position(&key);
                ParamsError::invalid(Cow::Owned(key.into_owned()), at, reason)
            }
            _ => in_our_words(reason, position),
        };
        fault.into_error()
    })
}

/// serde's words for a struct's fields, in ours for parameters.
fn in_our_words(reason: String, position: impl Fn(&str) -> Option<usize>) -> ParamsError {
    let field = |prefix: &str| {
        let rest = reason.strip_prefix(prefix)?;
        rest.strip_suffix('`').map(str::to_owned)
    };
    if let Some(name) = field("missing field `") {
        let at = position(&name);
        return ParamsError::missing(Cow::Owned(name), at);
    }
    if let Some(name) = field("duplicate field `") {
        let at = position(&name);
        return ParamsError::invalid(Cow::Owned(name), at, "given twice".to_owned());
    }
    ParamsError::malformed(reason)
}

/// What the wrappers learn while decoding.
#[derive(Default)]
struct State<'de> {
    /// The key last read at the top level.
    key: RefCell<Option<Cow<'de, str>>>,
    /// Whether a top-level value is being decoded.
    in_value: Cell<bool>,
    /// The error, when it is one of ours (an unknown key, surplus values).
    fault: RefCell<Option<ParamsError>>,
    /// The top-level struct's fields, in order: where a parameter is.
    fields: Cell<&'static [&'static str]>,
}

/// The top-level deserializer: a struct read from an object gets its keys watched.
struct Strict<'s, 'de, D> {
    inner: D,
    state: &'s State<'de>,
}

/// Forwards the listed `deserialize_*` methods to `self.inner` unchanged.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*))*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
                self.inner.$method($($arg,)* visitor)
            }
        )*
    };
}

/// The methods every wrapper here forwards as they are.
macro_rules! forward_plain {
    () => {
        forward! {
            deserialize_any() deserialize_bool() deserialize_i8() deserialize_i16()
            deserialize_i32() deserialize_i64() deserialize_i128() deserialize_u8()
            deserialize_u16() deserialize_u32() deserialize_u64() deserialize_u128()
            deserialize_f32() deserialize_f64() deserialize_char() deserialize_str()
            deserialize_string() deserialize_bytes() deserialize_byte_buf()
            deserialize_option() deserialize_unit() deserialize_seq() deserialize_map()
            deserialize_identifier()
            deserialize_unit_struct(name: &'static str)
            deserialize_newtype_struct(name: &'static str)
            deserialize_tuple(len: usize)
            deserialize_tuple_struct(name: &'static str, len: usize)
            deserialize_enum(name: &'static str, variants: &'static [&'static str])
        }
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<'_, 'de, D> {
    type Error = D::Error;

    forward! {
        deserialize_any() deserialize_bool() deserialize_i8() deserialize_i16()
        deserialize_i32() deserialize_i64() deserialize_i128() deserialize_u8()
        deserialize_u16() deserialize_u32() deserialize_u64() deserialize_u128()
        deserialize_f32() deserialize_f64() deserialize_char() deserialize_str()
        deserialize_string() deserialize_bytes() deserialize_byte_buf()
        deserialize_unit() deserialize_seq() deserialize_map()
        deserialize_identifier()
        deserialize_unit_struct(name: &'static str)
        deserialize_tuple(len: usize)
        deserialize_tuple_struct(name: &'static str, len: usize)
        deserialize_enum(name: &'static str, variants: &'static [&'static str])
        deserialize_ignored_any()
    }

    /// `Option<Filter>`: the filter inside is watched as a bare one would be.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let state = self.state;
        self.inner.deserialize_option(Inside { visitor, state })
    }

    /// `struct Wrapper(Filter)`: likewise.
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let state = self.state;
        self.inner
            .deserialize_newtype_struct(name, Inside { visitor, state })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let state = self.state;
        if state.fields.get().is_empty() {
            state.fields.set(fields);
        }
        let watched = Watched {
            visitor,
            state,
            fields: fields.len(),
        };
        self.inner.deserialize_struct(name, fields, watched)
    }
}

/// The visitor of an `Option` or a newtype: what it holds is read through [`Strict`] again.
struct Inside<'s, 'de, V> {
    visitor: V,
    state: &'s State<'de>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Inside<'_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<V::Value, D::Error> {
        let state = self.state;
        self.visitor.visit_some(Strict { inner, state })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, inner: D) -> Result<V::Value, D::Error> {
        let state = self.state;
        self.visitor.visit_newtype_struct(Strict { inner, state })
    }
}

/// A struct's visitor, handed its map through [`WatchedMap`]; by position, surplus values are
/// counted as surplus parameters.
struct Watched<'s, 'de, V> {
    visitor: V,
    state: &'s State<'de>,
    fields: usize,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Watched<'_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<V::Value, A::Error> {
        let value = self.visitor.visit_seq(&mut seq)?;
        let mut surplus = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            surplus += 1;
        }
        if surplus > 0 {
            let fault = ParamsError::too_many(self.fields, self.fields + surplus);
            *self.state.fault.borrow_mut() = Some(fault);
            return Err(de::Error::custom("too many parameters"));
        }
        Ok(value)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(WatchedMap {
            inner: map,
            state: self.state,
        })
    }
}

struct WatchedMap<'s, 'de, A> {
    inner: A,
    state: &'s State<'de>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WatchedMap<'_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        // The key is read twice: once as text, to remember, once by the struct's seed.
        let Some(KeyText(key)) = self.inner.next_key::<KeyText<'de>>()? else {
            return Ok(None);
        };
        let value = seed.deserialize(KeyDe::<A::Error>::new(&key))?;
        *self.state.key.borrow_mut() = Some(key);
        Ok(Some(value))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.state.in_value.set(true);
        let value = self.inner.next_value_seed(ValueSeed {
            seed,
            state: self.state,
        })?;
        self.state.in_value.set(false);
        Ok(value)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A key's text: borrowed from the request unless it has escapes.
struct KeyText<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for KeyText<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = KeyText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a parameter name")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(KeyText(Cow::Borrowed(text)))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(KeyText(Cow::Owned(text.to_owned())))
            }
        }
        de.deserialize_str(Text)
    }
}

/// A key, as text, for the struct's field identifier.
struct KeyDe<'k, E> {
    key: &'k str,
    error: std::marker::PhantomData<E>,
}

impl<'k, E> KeyDe<'k, E> {
    fn new(key: &'k str) -> Self {
        Self {
            key,
            error: std::marker::PhantomData,
        }
    }
}

impl<'de, E: de::Error> Deserializer<'de> for KeyDe<'_, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_str(self.key)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// A top-level value: decoded as usual, unless the struct skips it, which means its key is
/// no field of the struct.
struct ValueSeed<'s, 'de, S> {
    seed: S,
    state: &'s State<'de>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for ValueSeed<'_, 'de, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, inner: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(ValueDe {
            inner,
            state: self.state,
        })
    }
}

struct ValueDe<'s, 'de, D> {
    inner: D,
    state: &'s State<'de>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ValueDe<'_, 'de, D> {
    type Error = D::Error;

    forward_plain!();
    forward! { deserialize_struct(name: &'static str, fields: &'static [&'static str]) }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        drop(visitor);
        let key = self.state.key.borrow();
        let fault = ParamsError::unknown(shown(key.as_deref().unwrap_or_default()));
        *self.state.fault.borrow_mut() = Some(fault);
        Err(de::Error::custom("unknown parameter"))
    }
}
