//! What a decode error knows: which parameter, where, and why. The dispatcher words it as
//! -32602 with a sentence in `data`, unless the router shapes it itself
//! ([`Router::params_errors`](crate::Router::params_errors)), as a node it replaces would.

use std::borrow::Cow;
use std::fmt;

use crate::ErrorObject;

/// Why a call's params did not decode, as [`Router::params_errors`] sees it.
///
/// [`Router::params_errors`]: crate::Router::params_errors
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamsError {
    problem: ParamsProblem,
    name: Option<Cow<'static, str>>,
    position: Option<usize>,
    reason: String,
}

/// What went wrong with the params.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamsProblem {
    /// A parameter's value does not fit its type, or it is given twice.
    Invalid,
    /// A required parameter is not given.
    Missing,
    /// More values by position than the method takes.
    TooMany {
        /// How many the method takes.
        most: usize,
        /// How many were given.
        given: usize,
    },
    /// A name by name that is no parameter of the method.
    Unknown,
    /// The params as a whole do not fit (no parameter to blame).
    Malformed,
}

impl ParamsError {
    /// A parameter's value did not decode.
    pub(crate) fn invalid(
        name: Cow<'static, str>,
        position: Option<usize>,
        reason: String,
    ) -> Self {
        Self {
            problem: ParamsProblem::Invalid,
            name: Some(name),
            position,
            reason,
        }
    }

    /// A required parameter was not given.
    pub(crate) fn missing(name: Cow<'static, str>, position: Option<usize>) -> Self {
        Self {
            problem: ParamsProblem::Missing,
            name: Some(name),
            position,
            reason: String::new(),
        }
    }

    /// `given` values by position, where the method takes `most`.
    pub(crate) fn too_many(most: usize, given: usize) -> Self {
        Self {
            problem: ParamsProblem::TooMany { most, given },
            name: None,
            position: Some(most),
            reason: String::new(),
        }
    }

    /// A name that is no parameter.
    pub(crate) fn unknown(name: String) -> Self {
        Self {
            problem: ParamsProblem::Unknown,
            name: Some(Cow::Owned(name)),
            position: None,
            reason: String::new(),
        }
    }

    /// The params as a whole did not decode.
    pub(crate) fn malformed(reason: String) -> Self {
        Self {
            problem: ParamsProblem::Malformed,
            name: None,
            position: None,
            reason,
        }
    }

    /// The -32602 the call gets unless the router shapes it: the sentence as `data`. The
    /// error keeps this, for a shaper to read.
    pub(crate) fn into_error(self) -> ErrorObject {
        // Sized up front: written piece by piece, the text would grow its buffer.
        let room = self.name.as_deref().map_or(0, str::len) + self.reason.len() + 40;
        let mut sentence = String::with_capacity(room);
        let _ = fmt::Write::write_fmt(&mut sentence, format_args!("{self}"));
        ErrorObject::invalid_params(sentence).with_params_error(self)
    }

    /// Counts `before` more parameters ahead of this one.
    pub(crate) fn shift(&mut self, before: usize) {
        self.position = self.position.map(|at| at + before);
    }

    /// What went wrong.
    pub fn problem(&self) -> ParamsProblem {
        self.problem
    }

    /// The parameter's name, when one is to blame (for [`ParamsProblem::Unknown`], the name the
    /// caller gave, cut at 64 characters).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The parameter's position among the method's parameters, from 0, when known (for
    /// [`ParamsProblem::TooMany`], the first one too many).
    pub fn position(&self) -> Option<usize> {
        self.position
    }

    /// serde's words for what did not fit (`invalid type: string "2", expected i64`);
    /// empty for a missing, surplus or unknown parameter.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The sentence this library answers with in `data`: `parameter "a": invalid type: ...`,
/// `missing parameter "b"`, `expected at most 2 parameters, got 3`, `unknown parameter "c"`.
impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name.as_deref().unwrap_or_default();
        match self.problem {
            ParamsProblem::Invalid => write!(f, "parameter \"{name}\": {}", self.reason),
            ParamsProblem::Missing => write!(f, "missing parameter \"{name}\""),
            ParamsProblem::TooMany { most, given } => {
                let noun = if most == 1 { "parameter" } else { "parameters" };
                write!(f, "expected at most {most} {noun}, got {given}")
            }
            // A name cut short keeps its ellipsis outside the quotes.
            ParamsProblem::Unknown => match name.strip_suffix('…') {
                Some(cut) => write!(f, "unknown parameter {cut:?}…"),
                None => write!(f, "unknown parameter {name:?}"),
            },
            ParamsProblem::Malformed => f.write_str(&self.reason),
        }
    }
}

/// A client's string, cut at 64 characters (with an ellipsis) for an error's words.
pub(crate) fn shown(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
