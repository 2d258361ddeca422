//! Lifetimes in parameter types: a borrowed parameter borrows from the request's text.

use syn::visit_mut::VisitMut;
use syn::{Lifetime, Type};

/// Whether the type is written `Cow<'_, str>` or `Cow<str>` (any path to `Cow`): a `Cow`
/// that may borrow from the request. A named lifetime (`Cow<'static, str>`) is left to serde.
pub(crate) fn is_cow_str(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    let elided = args.args.iter().all(|arg| match arg {
        syn::GenericArgument::Lifetime(lifetime) => lifetime.ident == "_",
        _ => true,
    });
    last.ident == "Cow"
        && elided
        && args.args.iter().any(|arg| {
            matches!(arg, syn::GenericArgument::Type(Type::Path(inner)) if inner.path.is_ident("str"))
        })
}

/// The type with every elided or `'_` lifetime named `'__de`, the lifetime of the request
/// text, so that borrowed parameters (`Cow<'_, str>`, `&RawValue`) borrow from it. `Cow`
/// written without its lifetime (`Cow<str>`) gets it too.
pub(crate) fn with_lifetime(ty: &Type) -> Type {
    named_lifetimes(ty, "'__de")
}

/// The type with every elided or `'_` lifetime named `name` (a `Cow` without one gets it too).
pub(crate) fn named_lifetimes(ty: &Type, name: &str) -> Type {
    struct NameLifetimes<'n>(&'n str);
    impl VisitMut for NameLifetimes<'_> {
        fn visit_path_segment_mut(&mut self, segment: &mut syn::PathSegment) {
            if segment.ident == "Cow" {
                if let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    let has_lifetime = args
                        .args
                        .iter()
                        .any(|arg| matches!(arg, syn::GenericArgument::Lifetime(_)));
                    if !has_lifetime {
                        let lifetime = Lifetime::new(self.0, segment.ident.span());
                        args.args
                            .insert(0, syn::GenericArgument::Lifetime(lifetime));
                    }
                }
            }
            syn::visit_mut::visit_path_segment_mut(self, segment);
        }
        fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
            if reference.lifetime.is_none() {
                reference.lifetime = Some(Lifetime::new(self.0, reference.and_token.span));
            }
            syn::visit_mut::visit_type_reference_mut(self, reference);
        }
        fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
            if lifetime.ident == "_" {
                *lifetime = Lifetime::new(self.0, lifetime.span());
            }
        }
    }
    let mut ty = ty.clone();
    NameLifetimes(name).visit_type_mut(&mut ty);
    ty
}
