//! The attribute's options: `#[rpc_method(name = "…", crate = "…")]` on the function and
//! `#[rpc(rename = "…")]` on a parameter.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Lit, LitStr, Meta, Token};

use crate::Errors;

/// The options of `#[rpc_method(...)]`.
#[derive(Default)]
pub(crate) struct Options {
    /// `name = "math.add"`: the wire name, if not the function's.
    pub(crate) name: Option<LitStr>,
    /// `crate = "path::to::rpc_core"`: where the runtime is.
    pub(crate) krate: Option<syn::Path>,
}

const METHOD_OPTIONS: &str = "`name`, `crate`";
const PARAM_OPTIONS: &str = "`rename`";

impl Options {
    /// Reads the options; every mistake is recorded, not only the first.
    pub(crate) fn parse(args: TokenStream, errors: &Errors) -> Self {
        let mut options = Options::default();
        for (key, value) in name_values(args, METHOD_OPTIONS, errors) {
            if key.is_ident("name") {
                if let Some(name) = string_value(&value, errors) {
                    if name.value().is_empty() {
                        errors.push(syn::Error::new_spanned(
                            &name,
                            "a method name must not be empty",
                        ));
                    }
                    set_once(&mut options.name, name, &key, errors);
                }
            } else if key.is_ident("crate") {
                if let Some(path) = string_value(&value, errors) {
                    match path.parse::<syn::Path>() {
                        Ok(parsed) => set_once(&mut options.krate, parsed, &key, errors),
                        Err(err) => errors.push(syn::Error::new_spanned(
                            &path,
                            format!("expected a path: {err}"),
                        )),
                    }
                }
            } else {
                errors.push(unknown(&key, METHOD_OPTIONS));
            }
        }
        options
    }
}

/// Takes the `#[rpc(...)]` attributes off a parameter and returns its `rename`, if any.
pub(crate) fn take_param_options(attrs: &mut Vec<Attribute>, errors: &Errors) -> Option<LitStr> {
    let mut rename = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("rpc") {
            return true;
        }
        match &attr.meta {
            Meta::List(list) => {
                for (key, value) in name_values(list.tokens.clone(), PARAM_OPTIONS, errors) {
                    if key.is_ident("rename") {
                        if let Some(name) = string_value(&value, errors) {
                            if name.value().is_empty() {
                                errors.push(syn::Error::new_spanned(
                                    &name,
                                    "a parameter name must not be empty",
                                ));
                            }
                            set_once(&mut rename, name, &key, errors);
                        }
                    } else {
                        errors.push(unknown(&key, PARAM_OPTIONS));
                    }
                }
            }
            other => errors.push(syn::Error::new_spanned(
                other,
                format!("expected `#[rpc(...)]` with one of: {PARAM_OPTIONS}"),
            )),
        }
        false
    });
    rename
}

/// Splits `a = 1, b = "x"` into pairs; anything else is an error pointing at it.
fn name_values(tokens: TokenStream, expected: &str, errors: &Errors) -> Vec<(syn::Path, Expr)> {
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(metas) => metas,
        Err(err) => {
            errors.push(err);
            return Vec::new();
        }
    };
    metas
        .into_iter()
        .filter_map(|meta| match meta {
            Meta::NameValue(nv) => Some((nv.path, nv.value)),
            Meta::Path(path) if !is_known(&path, expected) => {
                errors.push(unknown(&path, expected));
                None
            }
            other => {
                let path = other.path().clone();
                errors.push(syn::Error::new_spanned(
                    other,
                    format!(
                        "expected `{} = \"...\"`",
                        quote::ToTokens::to_token_stream(&path)
                    ),
                ));
                None
            }
        })
        .collect()
}

fn is_known(path: &syn::Path, expected: &str) -> bool {
    path.get_ident()
        .is_some_and(|ident| expected.contains(&format!("`{ident}`")))
}

fn unknown(key: &syn::Path, expected: &str) -> syn::Error {
    let name = quote::ToTokens::to_token_stream(key)
        .to_string()
        .replace(' ', "");
    syn::Error::new_spanned(
        key,
        format!("unknown option `{name}`, expected one of: {expected}"),
    )
}

fn string_value(value: &Expr, errors: &Errors) -> Option<LitStr> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.clone()),
        other => {
            errors.push(syn::Error::new_spanned(other, "expected a string literal"));
            None
        }
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &syn::Path, errors: &Errors) {
    if slot.is_some() {
        let name = quote::ToTokens::to_token_stream(key).to_string();
        errors.push(syn::Error::new_spanned(
            key,
            format!("duplicate option `{name}`"),
        ));
    } else {
        *slot = Some(value);
    }
}
