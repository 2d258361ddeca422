//! What registering a method checks: a name free and not reserved, and the unsubscribe
//! method a subscription brings; and the error when it fails.

use std::borrow::Cow;
use std::fmt;

use crate::method::Method;

/// A method could not be registered: its name is taken, or reserved by the specification;
/// or an alias was asked for a method that is not there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterError {
    name: Cow<'static, str>,
    why: Refusal,
}

/// The unsubscribe method a subscription method brings, if it must be added: `taken(name)` says
/// whether a method of that name exists (`Some(true)`: one that ends subscriptions, to share).
pub(crate) fn unsubscriber_for<S>(
    method: &Method<S>,
    taken: impl Fn(&str) -> Option<bool>,
) -> Result<Option<Method<S>>, RegisterError> {
    let Some(subscription) = &method.info.subscription else {
        return Ok(None);
    };
    let name = &subscription.unsubscribe;
    check_allowed(name)?;
    if method.info.names().any(|own| own == name) {
        return Err(RegisterError::new(name, Refusal::Duplicate));
    }
    match taken(name) {
        Some(true) => Ok(None),
        Some(false) => Err(RegisterError::new(name, Refusal::Duplicate)),
        None => Ok(Some(Method::unsubscriber(
            name.clone(),
            subscription.unknown_id_errors,
        ))),
    }
}

/// Refuses a name the specification reserves: those beginning with `rpc.`.
pub(crate) fn check_allowed(name: &str) -> Result<(), RegisterError> {
    if name.is_empty() {
        return Err(RegisterError::new(name, Refusal::Empty));
    }
    if name.starts_with("rpc.") {
        return Err(RegisterError::new(name, Refusal::Reserved));
    }
    Ok(())
}

impl RegisterError {
    pub(crate) fn new(name: &str, why: Refusal) -> Self {
        Self {
            name: Cow::Owned(name.to_owned()),
            why,
        }
    }
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.why {
            Refusal::Duplicate => write!(f, "a method named `{}` is registered already", self.name),
            Refusal::Unknown => write!(f, "no method named `{}` to give another name", self.name),
            Refusal::Kind => write!(
                f,
                "`{}`: that kind is registered already, or its notifications, unsubscribe method or options differ from its other kinds'",
                self.name
            ),
            Refusal::Empty => write!(f, "a method name must not be empty"),
            Refusal::Reserved => write!(
                f,
                "method names beginning with `rpc.` are reserved: `{}`",
                self.name
            ),
        }
    }
}

impl std::error::Error for RegisterError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Duplicate,
    /// A subscription kind registered already, or one that does not agree with the others.
    Kind,
    Empty,
    Reserved,
    Unknown,
}

impl RegisterError {
    /// The name refused.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether a method of that name is registered already.
    pub fn is_duplicate(&self) -> bool {
        self.why == Refusal::Duplicate
    }

    /// Whether the name begins with `rpc.`, which the specification reserves for
    /// extensions.
    pub fn is_reserved(&self) -> bool {
        self.why == Refusal::Reserved
    }

    /// Whether an alias was asked for a method that is not registered (the name is that
    /// method's).
    pub fn is_unknown(&self) -> bool {
        self.why == Refusal::Unknown
    }

    /// Whether the name was empty: a method needs a name to be called by (and to be
    /// described: OpenRPC requires one).
    pub fn is_empty_name(&self) -> bool {
        self.why == Refusal::Empty
    }
}
