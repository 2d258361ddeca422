//! Checks on the function that the compiler would not make, or would make with a worse error.

use std::collections::HashMap;

use syn::visit::Visit;
use syn::ItemFn;

use crate::ast::{Method, ParamKind};
use crate::Errors;

pub(crate) fn check(func: &ItemFn, method: &Method, subscription: bool, errors: &Errors) {
    let sig = &func.sig;
    let sinks: Vec<_> = method.sinks().collect();
    if subscription {
        if sig.asyncness.is_none() {
            errors.push(syn::Error::new_spanned(
                sig.fn_token,
                "a subscription is an `async fn`: it runs as long as it sends items",
            ));
        }
        if sinks.is_empty() {
            errors.push(syn::Error::new_spanned(
                &sig.ident,
                "a subscription takes a `Sink<T>` parameter, where it sends its items (or a `PendingSink<T>`, to decide before it starts)",
            ));
        }
        for extra in sinks.iter().skip(1) {
            errors.push(syn::Error::new_spanned(
                &extra.ty,
                "a subscription takes one `Sink<T>` (or `PendingSink<T>`) parameter",
            ));
        }
        // Its future outlives the request, so its parameters cannot borrow from it.
        for param in &method.params {
            if let ParamKind::Wire { .. } | ParamKind::Whole = param.kind {
                BorrowFinder(errors).visit_type(&param.ty);
            }
            if let ParamKind::Progress { .. } = param.kind {
                errors.push(syn::Error::new_spanned(
                    &param.ty,
                    "a subscription tells its caller through its `Sink`: a `Progress` belongs to a method",
                ));
            }
            if let ParamKind::CancelToken = param.kind {
                errors.push(syn::Error::new_spanned(
                    &param.ty,
                    "a subscription ends when its caller unsubscribes (`Sink::closed` tells): a `CancelToken` belongs to a method",
                ));
            }
        }
    } else {
        for sink in sinks {
            errors.push(syn::Error::new_spanned(
                &sink.ty,
                "a `Sink` parameter belongs to a subscription: write `#[rpc_subscription]`",
            ));
        }
    }
    for param in &method.params {
        if let ParamKind::Progress { bare: true } = param.kind {
            errors.push(syn::Error::new_spanned(
                &param.ty,
                "write `Option<Progress>`: a request carries a progress token or not",
            ));
        }
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            "an RPC method cannot be generic: the router must know every parameter's type",
        ));
    }
    if let syn::Safety::Unsafe(unsafety) = &sig.safety {
        errors.push(syn::Error::new_spanned(
            unsafety,
            "an RPC method cannot be `unsafe`: a remote caller cannot uphold its contract",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "an RPC method cannot be variadic",
        ));
    }
    for input in &sig.inputs {
        if let syn::FnArg::Typed(typed) = input {
            let mut finder = ImplTraitFinder(errors);
            finder.visit_type(&typed.ty);
        }
    }
    for param in &method.params {
        if let ParamKind::Wire { .. } | ParamKind::Whole = param.kind {
            BorrowedStrFinder(errors).visit_type(&param.ty);
        }
    }
    // The params are one value: a parameter that is all of them stands alone on the wire.
    if let Some(whole) = method.whole() {
        for other in &method.params {
            let clash = match other.kind {
                ParamKind::Whole => !std::ptr::eq(other, whole),
                ParamKind::Wire { .. } => true,
                _ => false,
            };
            if clash {
                errors.push(syn::Error::new_spanned(
                    &other.ident,
                    format!(
                        "`{}` is the whole params (`#[rpc(params)]`), so no other parameter can come from the wire",
                        whole.ident
                    ),
                ));
            }
        }
    }

    let mut seen = HashMap::new();
    for param in &method.params {
        let ParamKind::Wire { name, renamed } = &param.kind else {
            continue;
        };
        if let Some(first) = seen.insert(name.value(), param.ident.clone()) {
            let at = if *renamed {
                name.span()
            } else {
                param.ident.span()
            };
            errors.push(syn::Error::new(
                at,
                format!(
                    "duplicate parameter name \"{}\" (also used by `{first}`)",
                    name.value()
                ),
            ));
        }
    }
}

/// Reports every `&str` in a wire parameter's type: a JSON string with an escape in it
/// (`"h\u00e9"`) cannot be borrowed, so a valid call would fail at run time.
struct BorrowedStrFinder<'e>(&'e Errors);

impl Visit<'_> for BorrowedStrFinder<'_> {
    fn visit_type_reference(&mut self, reference: &syn::TypeReference) {
        if matches!(&*reference.elem, syn::Type::Path(path) if path.qself.is_none() && path.path.is_ident("str"))
        {
            self.0.push(syn::Error::new_spanned(
                reference,
                "a `&str` parameter cannot take a string with escapes in it (`\"h\\u00e9\"`), which callers may send: take `String`, or `Cow<'_, str>` to borrow the text when it has none",
            ));
        }
        syn::visit::visit_type_reference(self, reference);
    }
}

/// Reports every `impl Trait` in a parameter's type.
struct ImplTraitFinder<'e>(&'e Errors);

impl Visit<'_> for ImplTraitFinder<'_> {
    fn visit_type_impl_trait(&mut self, ty: &syn::TypeImplTrait) {
        self.0.push(syn::Error::new_spanned(
            ty,
            "`impl Trait` cannot be the type of an RPC method's parameter: name a concrete type",
        ));
    }
}

/// Reports a borrowed type in a subscription's parameter: the request is gone while the
/// subscription runs.
struct BorrowFinder<'e>(&'e Errors);

impl Visit<'_> for BorrowFinder<'_> {
    fn visit_type_reference(&mut self, reference: &syn::TypeReference) {
        let is_static = reference
            .lifetime
            .as_ref()
            .is_some_and(|lifetime| lifetime.ident == "static");
        if !is_static {
            self.0.push(syn::Error::new_spanned(
                reference,
                "a subscription outlives its request, so its parameters cannot borrow from it: take an owned type (`String`)",
            ));
        }
        syn::visit::visit_type_reference(self, reference);
    }

    fn visit_path_segment(&mut self, segment: &syn::PathSegment) {
        // `Cow<str>` borrows with its lifetime unwritten; any other lifetime but `'static`
        // (`Foo<'_>`, `Foo<'a>`) is a borrow too.
        let lifetimes = match &segment.arguments {
            syn::PathArguments::AngleBracketed(args) => args
                .args
                .iter()
                .filter_map(|arg| match arg {
                    syn::GenericArgument::Lifetime(lifetime) => Some(lifetime),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let borrows = lifetimes.iter().any(|lifetime| lifetime.ident != "static")
            || (segment.ident == "Cow" && lifetimes.is_empty());
        if borrows {
            self.0.push(syn::Error::new_spanned(
                segment,
                "a subscription outlives its request, so its parameters cannot borrow from it: take an owned type (`String`)",
            ));
        }
        syn::visit::visit_path_segment(self, segment);
    }
}
