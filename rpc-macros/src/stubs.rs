//! The client stubs (the `client` feature): `add::call(2, 3)` beside the method, a typed call
//! whose params go by name and whose result decodes as the function's return type.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{GenericArgument, PathArguments, Type};

use crate::ast::{looks_optional, Method, ParamKind};

/// The stub's parts: an item beside the method (the params' type) and functions for its
/// `impl` block.
pub(crate) struct Stubs {
    pub(crate) items: TokenStream,
    pub(crate) functions: TokenStream,
}

/// The stubs of a method (`call`) or a subscription (`subscribe`), named as on the wire.
pub(crate) fn generate(
    method: &Method,
    rt: &TokenStream,
    vis: &syn::Visibility,
    name: &str,
    subscription: Option<(&str, &str)>,
) -> Stubs {
    let ident = &method.ident;
    let wire: Vec<_> = method
        .params
        .iter()
        .filter(|p| matches!(p.kind, ParamKind::Wire { .. } | ParamKind::Whole))
        .collect();
    let args: Vec<_> = wire
        .iter()
        .map(|p| {
            let ident = &p.ident;
            let ty = owned(&p.ty, rt);
            quote!(#ident: #ty)
        })
        .collect();
    let (params_type, params_value, items) = if let Some(whole) = method.whole() {
        let ty = owned(&whole.ty, rt);
        let ident = &whole.ident;
        (quote!(#ty), quote!(#ident), TokenStream::new())
    } else {
        let params = format_ident!("__rpc_params_{}", ident, span = Span::call_site());
        let fields: Vec<_> = wire.iter().map(|p| &p.ident).collect();
        let types: Vec<_> = wire.iter().map(|p| owned(&p.ty, rt)).collect();
        let entries = wire.iter().map(|p| {
            let field = &p.ident;
            let wire_name = p.wire_name();
            if looks_optional(&p.ty) {
                // The `Option` itself is serialized (its bound is the one checked), when set.
                quote! {
                    if #rt::Option::is_some(&self.#field) {
                        #rt::__stub::SerializeMap::serialize_entry(&mut map, #wire_name, &self.#field)?;
                    }
                }
            } else {
                quote! {
                    #rt::__stub::SerializeMap::serialize_entry(&mut map, #wire_name, &self.#field)?;
                }
            }
        });
        let doc = format!("The params of [`{ident}::call`]({ident}), by name.");
        let shown = params.to_string();
        // Bounds under `for<'__x>` hold or not without an error: a server whose param types
        // are not `Serialize` still compiles, and only its stubs cannot be called.
        let bounds = types
            .iter()
            .map(|ty| quote!(for<'__x> #ty: #rt::__stub::Serialize,));
        let items = quote! {
            #[doc = #doc]
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #vis struct #params {
                #(#fields: #types,)*
            }

            impl ::core::fmt::Debug for #params {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#shown).finish_non_exhaustive()
                }
            }

            impl #rt::__stub::Serialize for #params
            where
                #(#bounds)*
            {
                fn serialize<__S: #rt::__stub::Serializer>(
                    &self,
                    serializer: __S,
                ) -> #rt::Result<__S::Ok, __S::Error> {
                    let mut map = #rt::__stub::Serializer::serialize_map(serializer, #rt::None)?;
                    #(#entries)*
                    #rt::__stub::SerializeMap::end(map)
                }
            }
        };
        (quote!(#params), quote!(#params { #(#fields),* }), items)
    };
    let functions = match subscription {
        None => {
            let output = method
                .output
                .as_ref()
                .map_or_else(|| quote!(()), |ty| result_type(ty, rt));
            let doc = format!(
                "A typed call of `{name}`, for a client to send: its result decodes as `{}`.",
                output.to_string().replace(' ', "")
            );
            quote! {
                #[doc = #doc]
                #[must_use]
                #vis fn call(#(#args),*) -> #rt::TypedCall<#params_type, #output>
                where
                    for<'__x> #params_type: #rt::__stub::Serialize,
                {
                    #rt::TypedCall::new(#name, #params_value)
                }
            }
        }
        Some((unsubscribe, notification)) => {
            let item = method
                .sinks()
                .find_map(|p| match &p.kind {
                    ParamKind::Sink { item, .. } => Some(owned(item, rt)),
                    _ => None,
                })
                .map_or_else(|| quote!(()), |ty| quote!(#ty));
            let doc = format!(
                "A typed subscription to `{name}`, for a client to open: its items decode as `{}`.",
                item.to_string().replace(' ', "")
            );
            quote! {
                #[doc = #doc]
                #[must_use]
                #vis fn subscribe(#(#args),*) -> #rt::TypedSubscription<#params_type, #item>
                where
                    for<'__x> #params_type: #rt::__stub::Serialize,
                {
                    #rt::TypedSubscription::new(#name, #unsubscribe, #notification, #params_value)
                }
            }
        }
    };
    Stubs { items, functions }
}

/// What a result written as `ty` decodes into on the client: the `Ok` type of a `Result`
/// (written so, under any path), an owned type for a borrowed one, raw JSON for `impl Trait`.
fn result_type(ty: &Type, rt: &TokenStream) -> TokenStream {
    if let Type::Path(path) = ty {
        if let Some(last) = path.path.segments.last() {
            if last.ident == "Result" {
                if let PathArguments::AngleBracketed(args) = &last.arguments {
                    if let Some(GenericArgument::Type(ok)) = args.args.first() {
                        return owned_tokens(ok, rt);
                    }
                }
            }
        }
    }
    owned_tokens(ty, rt)
}

fn owned_tokens(ty: &Type, rt: &TokenStream) -> TokenStream {
    let ty = owned(ty, rt);
    quote!(#ty)
}

/// The type with every borrow made owned: `&T` and `Cow<'_, T>` become `T::Owned` (`&str`
/// becomes `String`), `impl Trait` raw JSON.
fn owned(ty: &Type, rt: &TokenStream) -> Type {
    struct Owned<'r>(&'r TokenStream);
    impl VisitMut for Owned<'_> {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            let replaced: Option<Type> = match ty {
                Type::Reference(reference) => {
                    let mut inner = (*reference.elem).clone();
                    self.visit_type_mut(&mut inner);
                    Some(syn::parse_quote!(<#inner as ::std::borrow::ToOwned>::Owned))
                }
                Type::Path(path) if path.qself.is_none() => {
                    let last = path.path.segments.last();
                    let cow = last
                        .filter(|s| s.ident == "Cow")
                        .and_then(|s| match &s.arguments {
                            PathArguments::AngleBracketed(args) => {
                                args.args.iter().find_map(|arg| match arg {
                                    GenericArgument::Type(inner) => Some(inner.clone()),
                                    _ => None,
                                })
                            }
                            _ => None,
                        });
                    cow.map(|mut inner| {
                        self.visit_type_mut(&mut inner);
                        syn::parse_quote!(<#inner as ::std::borrow::ToOwned>::Owned)
                    })
                }
                Type::ImplTrait(_) => {
                    let rt = self.0;
                    Some(syn::parse_quote!(#rt::Box<#rt::RawValue>))
                }
                _ => None,
            };
            match replaced {
                Some(new) => *ty = new,
                None => syn::visit_mut::visit_type_mut(self, ty),
            }
        }
        fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
            if lifetime.ident == "_" {
                *lifetime = syn::Lifetime::new("'static", lifetime.span());
            }
        }
    }
    let mut ty = ty.clone();
    Owned(rt).visit_type_mut(&mut ty);
    ty
}
