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
    /// `Ext<'_, T>`, or `Option<Ext<'_, T>>`: a value from the call's context.
    Ext { inner: Box<Type>, optional: bool },
    /// `&Context<'_>`: the call's context, whole.
    Context,
    /// `#[rpc(params)]`: the whole params, by name or by position, decoded as this type.
    Whole,
    /// `Sink<T>`: where a subscription sends its items of type `T`; `PendingSink<T>`
    /// (`pending`), the same once the subscription has decided to start.
    Sink { item: Box<Type>, pending: bool },
    /// `Peer`: the connection's other side, to call back.
    Peer,
    /// `CancelToken`: the call's cancellation, to check or await.
    CancelToken,
    /// `Option<Progress>`: the call's progress reporter, when its request gave a token;
    /// `bare` when written `Progress` alone (an error: a request may give none).
    Progress { bare: bool },
}

impl ParamKind {
    /// What the parameter is, for messages; `None` for a wire parameter.
    fn local(&self) -> Option<&'static str> {
        match self {
            ParamKind::Wire { .. } | ParamKind::Whole => None,
            ParamKind::State { .. } => Some("a `State`"),
            ParamKind::Ext { .. } => Some("an `Ext`"),
            ParamKind::Context => Some("a `Context`"),
            ParamKind::Sink { .. } => Some("a `Sink`"),
            ParamKind::Peer => Some("a `Peer`"),
            ParamKind::Progress { .. } => Some("a `Progress`"),
            ParamKind::CancelToken => Some("a `CancelToken`"),
        }
    }
}

impl Param {
    pub(crate) fn wire_name(&self) -> Option<&LitStr> {
        match &self.kind {
            ParamKind::Wire { name, .. } => Some(name),
            _ => None,
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
                    let options = take_param_options(&mut typed.attrs, errors);
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
                    let kind = match local_kind(&ty) {
                        Some(kind) => {
                            if let Some(what) = kind.local() {
                                if let Some(rename) = &options.rename {
                                    errors.push(syn::Error::new_spanned(
                                        rename,
                                        format!("{what} parameter is not sent on the wire, so it cannot be renamed"),
                                    ));
                                }
                                if let Some(flag) = &options.whole {
                                    errors.push(syn::Error::new_spanned(
                                        flag,
                                        format!("{what} parameter is not sent on the wire, so it cannot be the params"),
                                    ));
                                }
                            }
                            kind
                        }
                        None if options.whole.is_some() => {
                            if let Some(rename) = &options.rename {
                                errors.push(syn::Error::new_spanned(
                                    rename,
                                    "the parameter that is the whole params has no name on the wire, so it cannot be renamed",
                                ));
                            }
                            ParamKind::Whole
                        }
                        None => {
                            let rename = options.rename;
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

    /// The parameter that stands for the whole params, if one does.
    pub(crate) fn whole(&self) -> Option<&Param> {
        self.params
            .iter()
            .find(|p| matches!(p.kind, ParamKind::Whole))
    }

    /// The `Sink<T>` parameters.
    pub(crate) fn sinks(&self) -> impl Iterator<Item = &Param> {
        self.params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Sink { .. }))
    }

    /// The `T` of each `State<'_, T>` parameter.
    pub(crate) fn states(&self) -> impl Iterator<Item = &Type> {
        self.params.iter().filter_map(|p| match &p.kind {
            ParamKind::State { inner } => Some(&**inner),
            _ => None,
        })
    }
}

/// What a parameter that is not read from the wire is, by the way its type is written:
/// `State<'_, T>`, `Ext<'_, T>`, `Option<Ext<'_, T>>`, `Peer`, `CancelToken`,
/// `Option<Progress>` (any path to them), or `&Context<'_>`.
fn local_kind(ty: &Type) -> Option<ParamKind> {
    if let Type::Reference(reference) = ty {
        let Type::Path(path) = &*reference.elem else {
            return None;
        };
        let last = path.path.segments.last()?;
        return (path.qself.is_none() && last.ident == "Context" && reference.mutability.is_none())
            .then_some(ParamKind::Context);
    }
    if is_plain("Peer", ty) {
        return Some(ParamKind::Peer);
    }
    if is_plain("CancelToken", ty) {
        return Some(ParamKind::CancelToken);
    }
    if is_plain("Progress", ty) {
        return Some(ParamKind::Progress { bare: true });
    }
    if wrapped("Option", ty).is_some_and(|inner| is_plain("Progress", &inner)) {
        return Some(ParamKind::Progress { bare: false });
    }
    if let Some(inner) = wrapped("State", ty) {
        return Some(ParamKind::State {
            inner: Box::new(inner),
        });
    }
    if let Some(item) = wrapped("Sink", ty) {
        return Some(ParamKind::Sink {
            item: Box::new(item),
            pending: false,
        });
    }
    if let Some(item) = wrapped("PendingSink", ty) {
        return Some(ParamKind::Sink {
            item: Box::new(item),
            pending: true,
        });
    }
    if let Some(inner) = wrapped("Ext", ty) {
        return Some(ParamKind::Ext {
            inner: Box::new(inner),
            optional: false,
        });
    }
    let inner = wrapped("Ext", &wrapped("Option", ty)?)?;
    Some(ParamKind::Ext {
        inner: Box::new(inner),
        optional: true,
    })
}

/// Whether the type is written `Name` (or `path::Name`), with no generic arguments.
fn is_plain(name: &str, ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    path.qself.is_none()
        && path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == name && last.arguments.is_none())
}

/// `T` of a type written `Name<'_, T>` or `Name<T>` (or `path::Name<...>`).
fn wrapped(name: &str, ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != name {
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

/// The `T` of an `Option<T>` written so.
#[cfg_attr(not(feature = "openrpc"), allow(dead_code))]
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last().filter(|s| s.ident == "Option")?;
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::Type(inner) => Some(inner),
            _ => None,
        }),
        _ => None,
    }
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
