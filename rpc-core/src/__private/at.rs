//! Where decoding a method's params stopped, to say what went wrong in a [`ParamsError`].

use crate::error::params::ParamsError;

/// Where decoding the params stopped, to say what went wrong.
#[derive(Clone, Copy)]
pub(super) enum At {
    Nowhere,
    /// In the value of the parameter at this position.
    Param(usize),
    /// At a name that is no parameter (the error's text is the name).
    Unknown,
    /// Past the last parameter, with this many values given.
    Surplus(usize),
}

impl At {
    pub(super) fn fault(self, names: &'static [&'static str], reason: String) -> ParamsError {
        match self {
            At::Param(index) => match names.get(index) {
                Some(&name) => ParamsError::invalid(name.into(), Some(index), reason),
                None => ParamsError::malformed(reason),
            },
            At::Unknown => ParamsError::unknown(reason),
            At::Surplus(given) => ParamsError::too_many(names.len(), given),
            At::Nowhere => ParamsError::malformed(reason),
        }
    }
}
