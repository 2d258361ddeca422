//! A typed view of the annotated function: what `expand` needs, read once.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, ItemFn, LitStr, Pat, PathArguments, ReturnType, Type};

use crate::attr::take_param_options;
use crate::Errors;

/// The function, as an RPC method.
pub(crate) struct Method {
    pub(crate) ident: Ident,
    pub(crate) is_async: bool,
    pub(crate) params: Vec<Param>,
    /// The doc comment, lines joined.
    pub(crate) doc: String,
    /// The return type, if written.
    pub(crate) output: Option<Type>,
}

/// One parameter.
pub(crate) struct Param {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) kind: ParamKind,
}

pub(crate) enum ParamKind {
    /// Read from the request's params under this name.
    Wire { name: LitStr, renamed: bool },
    /// `State<'_, T>`: the router's state (or the part of it that is a `T`).
    State { inner: Box<Type> },
}

impl Param {
    pub(crate) fn wire_name(&self) -> Option<&LitStr> {
        match &self.kind {
            ParamKind::Wire { name, .. } => Some(name),
            ParamKind::State { .. } => None,
        }
    }
}

impl Method {
    /// Reads the function, taking our `#[rpc(...)]` attributes off its parameters so that the
    /// function can be emitted as ordinary Rust whatever else goes wrong.
    pub(crate) fn from_fn(func: &mut ItemFn, errors: &Errors) -> Self {
        let mut params = Vec::new();
        for arg in &mut func.sig.inputs {
            match arg {
                FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                    receiver,
                    "an RPC method cannot take `self`: use a free function, and a `State<'_, T>` parameter for shared data",
                )),
                FnArg::Typed(typed) => {
                    let rename = take_param_options(&mut typed.attrs, errors);
                    let ident = match &*typed.pat {
                        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
                        other => {
                            errors.push(syn::Error::new_spanned(
                                other,
                                "expected a plain parameter name: an RPC method's parameters are named on the wire",
                            ));
                            continue;
                        }
                    };
                    let ty = (*typed.ty).clone();
                    let kind = match state_inner(&ty).map(Box::new) {
                        Some(inner) => {
                            if let Some(rename) = &rename {
                                errors.push(syn::Error::new_spanned(
                                    rename,
                                    "a `State` parameter is not sent on the wire, so it cannot be renamed",
                                ));
                            }
                            ParamKind::State { inner }
                        }
                        None => {
                            let renamed = rename.is_some();
                            let name = rename.unwrap_or_else(|| {
                                let text = ident.to_string();
                                LitStr::new(text.strip_prefix("r#").unwrap_or(&text), ident.span())
                            });
                            ParamKind::Wire { name, renamed }
                        }
                    };
                    params.push(Param { ident, ty, kind });
                }
            }
        }
        Method {
            ident: func.sig.ident.clone(),
            is_async: func.sig.asyncness.is_some(),
            params,
            doc: doc_text(&func.attrs),
            output: match &func.sig.output {
                ReturnType::Default => None,
                ReturnType::Type(_, ty) => Some((**ty).clone()),
            },
        }
    }

    /// Where to point errors about the return type.
    pub(crate) fn output_span(&self) -> Span {
        self.output
            .as_ref()
            .map_or_else(|| self.ident.span(), Spanned::span)
    }

    pub(crate) fn state(&self) -> Option<&Type> {
        self.params.iter().find_map(|p| match &p.kind {
            ParamKind::State { inner } => Some(&**inner),
            ParamKind::Wire { .. } => None,
        })
    }
}

/// `T` of a parameter typed `State<'_, T>` (or `path::State<T>`).
fn state_inner(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "State" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    });
    let inner = types.next()?;
    types.next().is_none().then_some(inner)
}

/// The doc comment's text, with the one space after `///` taken off each line.
fn doc_text(attrs: &[syn::Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| line.strip_prefix(' ').unwrap_or(&line).to_owned())
        .collect();
    lines.join("\n").trim().to_owned()
}

/// Whether the type is written as an `Option`, for the metadata only; decoding asks the type.
pub(crate) fn looks_optional(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// The type as a person would write it: `Option<i64>`, not `Option < i64 >`.
pub(crate) fn type_name(ty: &Type) -> String {
    let mut name = quote::ToTokens::to_token_stream(ty).to_string();
    for (from, to) in [
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        (" :: ", "::"),
        (":: ", "::"),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
    ] {
        name = name.replace(from, to);
    }
    name
}
