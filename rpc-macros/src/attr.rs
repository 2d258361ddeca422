//! The attribute's options: `#[rpc_method(name = "…", crate = "…")]` on the function and
//! `#[rpc(rename = "…")]` or `#[rpc(params)]` on a parameter.

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
    /// A subscription's `unsubscribe = "..."`: the name of the method that ends it.
    pub(crate) unsubscribe: Option<LitStr>,
    /// A subscription's `notification = "..."`: the name of its notifications.
    pub(crate) notification: Option<LitStr>,
    /// `errors(4040 = "no such key", ...)`: the application errors it declares, as the code
    /// (tokens, a sign included) and the message.
    pub(crate) errors: Vec<(TokenStream, LitStr)>,
    /// `ordered`: the method runs alone, after every earlier message of its connection and
    /// before any later one.
    pub(crate) ordered: bool,
    /// A subscription's `unknown_id = "error"`: unsubscribing an id not alive answers
    /// go-ethereum's error rather than `false` (`unknown_id = "false"`, the default).
    pub(crate) unknown_id_errors: bool,
    /// A subscription's `end_notice`: the server's end of it is told with a last notice.
    pub(crate) end_notice: bool,
    /// A subscription's `kind = "logs"`: the kind it is of its subscribe name's.
    pub(crate) kind: Option<LitStr>,
}

const METHOD_OPTIONS: &str = "`name`, `crate`, `errors`, `ordered`";
const SUBSCRIPTION_OPTIONS: &str =
    "`name`, `kind`, `unsubscribe`, `notification`, `unknown_id`, `end_notice`, `crate`, `errors`";
const PARAM_OPTIONS: &str = "`rename`, `params`";

impl Options {
    /// Reads the options; every mistake is recorded, not only the first.
    pub(crate) fn parse(args: TokenStream, subscription: bool, errors: &Errors) -> Self {
        let expected = if subscription {
            SUBSCRIPTION_OPTIONS
        } else {
            METHOD_OPTIONS
        };
        let mut options = Options::default();
        for (key, value) in name_values(args, expected, errors) {
            let slot = if key.is_ident("name") {
                Some(&mut options.name)
            } else if subscription && key.is_ident("unsubscribe") {
                Some(&mut options.unsubscribe)
            } else if subscription && key.is_ident("notification") {
                Some(&mut options.notification)
            } else if subscription && key.is_ident("kind") {
                Some(&mut options.kind)
            } else {
                None
            };
            if let Some(slot) = slot {
                if let Some(name) = string_value(&key, value.as_ref(), errors) {
                    if name.value().is_empty() {
                        let what = if key.is_ident("notification") {
                            "a notification name must not be empty"
                        } else if key.is_ident("kind") {
                            "a subscription kind must not be empty"
                        } else {
                            "a method name must not be empty"
                        };
                        errors.push(syn::Error::new_spanned(&name, what));
                    }
                    set_once(slot, name, &key, errors);
                }
            } else if key.is_ident("errors") {
                match value {
                    Some(Expr::Verbatim(list)) => {
                        declared_errors(list, &mut options.errors, errors)
                    }
                    _ => errors.push(syn::Error::new_spanned(
                        &key,
                        "expected `errors(CODE = \"message\", ...)`",
                    )),
                }
            } else if !subscription && key.is_ident("ordered") {
                match value {
                    None if options.ordered => {
                        errors.push(syn::Error::new_spanned(&key, "`ordered` is given twice"));
                    }
                    None => options.ordered = true,
                    Some(value) => errors.push(syn::Error::new_spanned(
                        value,
                        "`ordered` takes no value: write `#[rpc_method(ordered)]`",
                    )),
                }
            } else if subscription && key.is_ident("end_notice") {
                match value {
                    None if options.end_notice => {
                        errors.push(syn::Error::new_spanned(&key, "`end_notice` is given twice"))
                    }
                    None => options.end_notice = true,
                    Some(value) => errors.push(syn::Error::new_spanned(
                        value,
                        "`end_notice` takes no value: write `#[rpc_subscription(end_notice)]`",
                    )),
                }
            } else if subscription && key.is_ident("unknown_id") {
                if let Some(form) = string_value(&key, value.as_ref(), errors) {
                    match form.value().as_str() {
                        "error" => options.unknown_id_errors = true,
                        "false" => {}
                        _ => errors.push(syn::Error::new_spanned(
                            &form,
                            "expected `unknown_id = \"error\"` (go-ethereum's -32000 \"subscription not found\") or `unknown_id = \"false\"` (the default)",
                        )),
                    }
                }
            } else if key.is_ident("crate") {
                if let Some(path) = string_value(&key, value.as_ref(), errors) {
                    match path.parse::<syn::Path>() {
                        Ok(parsed) => set_once(&mut options.krate, parsed, &key, errors),
                        Err(err) => errors.push(syn::Error::new_spanned(
                            &path,
                            format!("expected a path: {err}"),
                        )),
                    }
                }
            } else {
                errors.push(unknown(&key, expected));
            }
        }
        options
    }
}

/// The wire names a function's method goes by, its options applied.
pub(crate) struct Names {
    /// The method's name (a subscription's: the one that starts it).
    pub(crate) name: String,
    /// For a subscription: the names of its unsubscribe method and of its notifications.
    pub(crate) subscription: Option<(String, String)>,
}

impl Names {
    /// A subscription's unsubscribe method and notification names, borrowed.
    pub(crate) fn pushes(&self) -> Option<(&str, &str)> {
        self.subscription
            .as_ref()
            .map(|(unsubscribe, notification)| (unsubscribe.as_str(), notification.as_str()))
    }
}

impl Options {
    /// The path of rpc-core's runtime support: `crate = "..."`'s, or `::rpc_core`'s.
    pub(crate) fn runtime(&self) -> TokenStream {
        let krate = self
            .krate
            .as_ref()
            .map_or_else(|| quote::quote!(::rpc_core), |path| quote::quote!(#path));
        quote::quote!(#krate::__private)
    }

    /// The wire names of the function `ident`: the options', or the defaults (`f`; for a
    /// subscription `subscribe_f`, `unsubscribe_f` and notifications named `f`).
    pub(crate) fn names(&self, ident: &syn::Ident, subscription: bool) -> Names {
        let text = ident.to_string();
        let base = text.strip_prefix("r#").unwrap_or(&text);
        let named = |option: &Option<LitStr>, default: String| {
            option.as_ref().map_or(default, LitStr::value)
        };
        if !subscription {
            return Names {
                name: named(&self.name, base.to_owned()),
                subscription: None,
            };
        }
        Names {
            name: named(&self.name, format!("subscribe_{base}")),
            subscription: Some((
                named(&self.unsubscribe, format!("unsubscribe_{base}")),
                named(&self.notification, base.to_owned()),
            )),
        }
    }
}

/// The options of `#[rpc(...)]` on a parameter.
#[derive(Default)]
pub(crate) struct ParamOptions {
    /// `rename = "..."`: its name on the wire.
    pub(crate) rename: Option<LitStr>,
    /// `params`: it stands for the whole params; the flag, for spans.
    pub(crate) whole: Option<syn::Path>,
}

/// Takes the `#[rpc(...)]` attributes off a parameter and returns their options.
pub(crate) fn take_param_options(attrs: &mut Vec<Attribute>, errors: &Errors) -> ParamOptions {
    let mut options = ParamOptions::default();
    attrs.retain(|attr| {
        if !attr.path().is_ident("rpc") {
            return true;
        }
        match &attr.meta {
            Meta::List(list) => {
                for (key, value) in name_values(list.tokens.clone(), PARAM_OPTIONS, errors) {
                    if key.is_ident("rename") {
                        if let Some(name) = string_value(&key, value.as_ref(), errors) {
                            if name.value().is_empty() {
                                errors.push(syn::Error::new_spanned(
                                    &name,
                                    "a parameter name must not be empty",
                                ));
                            }
                            set_once(&mut options.rename, name, &key, errors);
                        }
                    } else if key.is_ident("params") {
                        if let Some(value) = value {
                            errors.push(syn::Error::new_spanned(
                                value,
                                "`params` takes no value: write `#[rpc(params)]`",
                            ));
                        }
                        set_once(&mut options.whole, key.clone(), &key, errors);
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
    options
}

/// Splits `a = 1, b = "x", flag` into pairs (a flag has no value); anything else is an error
/// pointing at it.
fn name_values(
    tokens: TokenStream,
    expected: &str,
    errors: &Errors,
) -> Vec<(syn::Path, Option<Expr>)> {
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
            Meta::NameValue(nv) => Some((nv.path, Some(nv.value))),
            Meta::Path(path) if !is_known(&path, expected) => {
                errors.push(unknown(&path, expected));
                None
            }
            Meta::Path(path) => Some((path, None)),
            // The one list option; its tokens are read by `declared_errors`.
            Meta::List(list) if list.path.is_ident("errors") && is_known(&list.path, expected) => {
                Some((list.path, Some(Expr::Verbatim(list.tokens))))
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

fn string_value(key: &syn::Path, value: Option<&Expr>, errors: &Errors) -> Option<LitStr> {
    match value {
        Some(Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        })) => Some(s.clone()),
        Some(other) => {
            errors.push(syn::Error::new_spanned(other, "expected a string literal"));
            None
        }
        None => {
            let name = quote::ToTokens::to_token_stream(key).to_string();
            errors.push(syn::Error::new_spanned(
                key,
                format!("expected `{name} = \"...\"`"),
            ));
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

/// One `CODE = "message"` of `errors(...)`.
struct DeclaredError {
    code: TokenStream,
    value: i64,
    message: LitStr,
}

impl syn::parse::Parse for DeclaredError {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let minus: Option<Token![-]> = input.parse()?;
        let digits: syn::LitInt = input.parse()?;
        if !digits.suffix().is_empty() {
            return Err(syn::Error::new_spanned(
                &digits,
                "an error code is a plain integer, without a type suffix",
            ));
        }
        input.parse::<Token![=]>()?;
        let message: LitStr = input.parse()?;
        let magnitude = digits.base10_parse::<i64>()?;
        let value = if minus.is_some() {
            -magnitude
        } else {
            magnitude
        };
        let code = quote::quote!(#minus #digits);
        Ok(Self {
            code,
            value,
            message,
        })
    }
}

/// Reads `errors(4040 = "no such key", -32001 = "busy")`: codes that fit an `i32`, each once,
/// with a message that is not empty.
fn declared_errors(list: TokenStream, into: &mut Vec<(TokenStream, LitStr)>, errors: &Errors) {
    let declared = match Punctuated::<DeclaredError, Token![,]>::parse_terminated.parse2(list) {
        Ok(declared) => declared,
        Err(err) => {
            errors.push(syn::Error::new(
                err.span(),
                format!("{err}: expected `errors(CODE = \"message\", ...)`"),
            ));
            return;
        }
    };
    let mut seen = Vec::new();
    for error in declared {
        if i32::try_from(error.value).is_err() {
            errors.push(syn::Error::new_spanned(
                &error.code,
                "an error code must fit an i32",
            ));
        } else if seen.contains(&error.value) {
            errors.push(syn::Error::new_spanned(
                &error.code,
                format!("error code {} is declared twice", error.value),
            ));
        } else if error.message.value().is_empty() {
            errors.push(syn::Error::new_spanned(
                &error.message,
                "an error message must not be empty",
            ));
        } else {
            seen.push(error.value);
            into.push((error.code, error.message));
        }
    }
}
