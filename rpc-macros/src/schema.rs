//! The schemas a method's description records (rpc-core's `openrpc` feature): each parameter's,
//! the result's and a subscription's items'. Each is a probe that takes the type's
//! `JsonSchema` implementation when it has one and records none otherwise, so that turning
//! the feature on never breaks a build. Without the feature, nothing is generated.

use proc_macro2::TokenStream;
#[cfg(feature = "openrpc")]
use quote::quote;
use syn::Type;

use crate::ast::Method;

/// The probe of `ty`'s schema: an `Option<TypeSchema>` expression.
#[cfg(feature = "openrpc")]
pub(crate) fn of(ty: &Type, rt: &TokenStream) -> Option<TokenStream> {
    if names_impl_trait(ty) {
        return None; // it cannot be named outside the function
    }
    let ty = crate::lifetimes::named_lifetimes(ty, "'static");
    Some(quote!((&#rt::SchemaProbe::<#ty>::NEW).__rpc_schema()))
}

#[cfg(not(feature = "openrpc"))]
pub(crate) fn of(_: &Type, _: &TokenStream) -> Option<TokenStream> {
    None
}

/// The result's schema (a method's) or the items' (a subscription's), as builder calls.
pub(crate) fn method(method: &Method, subscription: bool, rt: &TokenStream) -> TokenStream {
    #[cfg(feature = "openrpc")]
    {
        use crate::ast::ParamKind;
        if subscription {
            let item = method.sinks().find_map(|p| match &p.kind {
                ParamKind::Sink { item, .. } => of(item, rt),
                _ => None,
            });
            return item.map_or_else(TokenStream::new, |item| quote!(.__item_schema(#item)));
        }
        let unit: Type = syn::parse_quote!(());
        let output = method.output.as_ref().unwrap_or(&unit);
        if names_impl_trait(output) {
            return TokenStream::new(); // it cannot be named outside the function
        }
        // By type, not by syntax: a `Result` under any name is seen through.
        let output = crate::lifetimes::named_lifetimes(output, "'static");
        quote!(.__result_schema((&&&#rt::SchemaProbe::<#output>::NEW).__rpc_result_schema()))
    }
    #[cfg(not(feature = "openrpc"))]
    {
        let _ = (method, subscription, rt);
        TokenStream::new()
    }
}

/// The probe's traits, in scope where the probes are.
pub(crate) fn traits(rt: &TokenStream) -> TokenStream {
    #[cfg(feature = "openrpc")]
    {
        quote! {
            #[allow(unused_imports)]
            use #rt::{KnownSchema as _, UnknownSchema as _};
            #[allow(unused_imports)]
            use #rt::{
                OkSchema as _, OkWithoutSchema as _, ValueSchema as _, ValueWithoutSchema as _,
            };
        }
    }
    #[cfg(not(feature = "openrpc"))]
    {
        let _ = rt;
        TokenStream::new()
    }
}

/// Whether `impl Trait` appears in the type.
#[cfg(feature = "openrpc")]
fn names_impl_trait(ty: &Type) -> bool {
    struct Finds(bool);
    impl<'a> syn::visit::Visit<'a> for Finds {
        fn visit_type_impl_trait(&mut self, _: &'a syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finds = Finds(false);
    syn::visit::Visit::visit_type(&mut finds, ty);
    finds.0
}
