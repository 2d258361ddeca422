//! Generates the method: a parameter decoder, the call, and the metadata.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ItemFn;

use crate::ast::{looks_optional, option_inner, type_name, Method, ParamKind};
use crate::attr::Options;
use crate::lifetimes::{is_cow_str, with_lifetime};

/// Emits the user's function unchanged, and beside it a type of the same name (types and
/// functions live in different namespaces) whose `method()` builds the router's `Method`.
pub(crate) fn generate(
    func: &ItemFn,
    method: &Method,
    options: &Options,
    subscription: bool,
) -> TokenStream {
    let rt = options.runtime();
    let ident = &method.ident;
    let vis = &func.vis;
    let names = options.names(ident, subscription);
    let name = &names.name;
    let pushes = names.pushes();

    let wire: Vec<_> = method
        .params
        .iter()
        .filter(|p| p.wire_name().is_some())
        .collect();
    let fields: Vec<_> = wire.iter().map(|p| &p.ident).collect();
    let field_types: Vec<_> = wire.iter().map(|p| with_lifetime(&p.ty)).collect();
    let wire_names: Vec<_> = wire.iter().filter_map(|p| p.wire_name()).collect();
    let indexes = 0..wire.len();
    let name_indexes = 0..wire.len();
    // Trait-bound errors on a parameter's type point at the user's type.
    let fills = wire.iter().map(|p| {
        let field = &p.ident;
        // A `Cow<str>` borrows the request's text when it can (serde's own `Cow` never does).
        let fill = if is_cow_str(&p.ty) {
            quote!(fill_cow_str)
        } else {
            quote!(fill)
        };
        quote_spanned!(at(&p.ty)=> #rt::#fill(&mut slots.#field, de))
    });
    let missings = wire.iter().map(|p| {
        let field = &p.ident;
        let wire_name = p.wire_name();
        quote_spanned!(at(&p.ty)=> #rt::missing(slots.#field, #wire_name)?)
    });

    // Each state part must come from the router's state: the bound names the user's type.
    let state_bound: Vec<_> = method
        .states()
        .map(|inner| {
            let bounded = with_lifetime(inner);
            quote_spanned!(at(inner)=> for<'__de> __S: #rt::StatePart<#bounded>,)
        })
        .collect();
    let args = method.params.iter().map(|p| match &p.kind {
        ParamKind::Wire { .. } => {
            let field = &p.ident;
            quote!(#field)
        }
        ParamKind::State { inner } => {
            let inner = with_lifetime(inner);
            quote!(#rt::State::new(#rt::StatePart::<#inner>::part(__rpc_state)))
        }
        ParamKind::Ext {
            inner,
            optional: false,
        } => quote_spanned!(at(inner)=> #rt::ext::<#inner>(__rpc_cx, #name)?),
        ParamKind::Ext {
            inner,
            optional: true,
        } => quote_spanned!(at(inner)=> #rt::ext_opt::<#inner>(__rpc_cx)),
        ParamKind::Context => quote!(__rpc_cx),
        ParamKind::Peer => quote_spanned!(at(&p.ty)=> #rt::peer(__rpc_cx, #name)?),
        ParamKind::Progress { .. } => quote!(__rpc_progress),
        ParamKind::CancelToken => quote!(#rt::cancel_token()),
        ParamKind::Sink { pending: false, .. } => quote!(#rt::Sink::from_raw(__rpc_sink)),
        ParamKind::Sink { pending: true, .. } => quote!(#rt::PendingSink::from_raw(__rpc_sink)),
        ParamKind::Whole => {
            let field = &p.ident;
            quote!(#field)
        }
    });
    // The wire parameters, decoded in one pass; or the one parameter that is all of them.
    let decode_as = |lifetime: TokenStream| match method.whole() {
        Some(whole) => {
            let ident = &whole.ident;
            let ty = &whole.ty;
            quote_spanned!(at(ty)=> let #ident: #ty = #rt::decode_whole(__rpc_params)?;)
        }
        None => quote! {
            let __RpcParams { #(#fields,)* .. } = #rt::decode::<__RpcParams<#lifetime>>(__rpc_params)?;
        },
    };
    // The progress reporter, and its guard: held until the call ends, it ends the progress.
    let progress = method
        .params
        .iter()
        .any(|p| matches!(p.kind, ParamKind::Progress { .. }))
        .then(|| {
            quote! {
                let (__rpc_progress, __rpc_progress_guard) =
                    #rt::progress(__rpc_cx, __rpc_params, #name);
            }
        });
    // Where a request gives its progress token (MCP's `_meta`, LSP's `workDoneToken`): not a
    // parameter, and not an unknown one either, for a method that reports progress.
    let ignored: Vec<&str> = if progress.is_some() {
        ["_meta", "workDoneToken"]
            .into_iter()
            .filter(|name| !wire_names.iter().any(|wire| wire.value() == *name))
            .collect()
    } else {
        Vec::new()
    };
    let skip = wire.len();
    let decode_async = decode_as(quote!('__a));
    let decode_sync = decode_as(quote!('_));
    let decode_subscription = decode_as(quote!('__p));

    // A return type that is no `Result` and not `Serialize`, or a `Result` whose error does not
    // convert, is reported at the user's return type.
    let value = quote!(__rpc_value);
    let output_at = Span::call_site().located_at(method.output_span());
    let kind = quote_spanned!(output_at=> (&#rt::Wrap(&__rpc_value)).__rpc_kind());
    let write = quote_spanned!(output_at=> #kind.__rpc_write(__rpc_value, __rpc_out));
    let json = quote_spanned!(output_at=> #kind.__rpc_json(__rpc_value));

    let call = if subscription {
        let (unsubscribe, notification) = pushes.unwrap_or_default();
        let item = method
            .sinks()
            .find_map(|p| match &p.kind {
                ParamKind::Sink { item, .. } => Some(type_name(item)),
                _ => None,
            })
            .unwrap_or_default();
        let arg_names: Vec<_> = (0..method.params.len())
            .map(|i| format_ident!("__rpc_arg{}", i))
            .collect();
        let value_at = quote_spanned!(output_at=> __rpc_value);
        let end =
            quote_spanned!(output_at=> #rt::SubscriptionEnd::end(#value_at, #name, &__rpc_ending));
        quote! {
            fn __rpc_call<'__a, '__p, __S>(
                __rpc_state: &'__a __S,
                __rpc_cx: &'__a #rt::Context<'__a>,
                __rpc_params: #rt::Params<'__p>,
                __rpc_sink: #rt::RawSink,
            ) -> #rt::Result<#rt::BoxFuture<'__a, ()>, #rt::ErrorObject>
            where
                __S: #rt::Send + #rt::Sync + 'static,
                #(#state_bound)*
            {
                #decode_subscription
                let __rpc_ending = #rt::Clone::clone(&__rpc_sink);
                #(let #arg_names = #args;)*
                #rt::Ok(#rt::Box::pin(async move {
                    let #value = #ident(#(#arg_names),*).await;
                    #end;
                }))
            }
            #rt::Method::new_subscription(#name, #notification, #unsubscribe, __rpc_call::<__S>)
                .item_type(#item)
        }
    } else if method.is_async {
        quote! {
            fn __rpc_call<'__a, __S>(
                __rpc_state: &'__a __S,
                __rpc_cx: &'__a #rt::Context<'__a>,
                __rpc_params: #rt::Params<'__a>,
            ) -> #rt::BoxFuture<'__a, #rt::Result<#rt::Vec<u8>, #rt::ErrorObject>>
            where
                __S: #rt::Send + #rt::Sync + 'static,
                #(#state_bound)*
            {
                #rt::Box::pin(async move {
                    #decode_async
                    #progress
                    let #value = #ident(#(#args),*).await;
                    #json
                })
            }
            #rt::Method::from_async_json(#name, __rpc_call::<__S>)
        }
    } else {
        quote! {
            fn __rpc_call<__S>(
                __rpc_state: &__S,
                __rpc_cx: &#rt::Context<'_>,
                __rpc_params: #rt::Params<'_>,
                __rpc_out: &mut #rt::Vec<u8>,
            ) -> #rt::Result<(), #rt::ErrorObject>
            where
                __S: #rt::Send + #rt::Sync + 'static,
                #(#state_bound)*
            {
                #decode_sync
                #progress
                let #value = #ident(#(#args),*);
                #write
            }
            #rt::Method::from_sync_json(#name, __rpc_call::<__S>)
        }
    };

    let uses_peer = method
        .params
        .iter()
        .any(|p| matches!(p.kind, ParamKind::Peer | ParamKind::Progress { .. }))
        .then(|| quote!(.uses_peer()));
    let ordered = options.ordered.then(|| quote!(.ordered()));
    let end_notice = options.end_notice.then(|| quote!(.end_notice()));
    let kind = options.kind.as_ref().map(|kind| quote!(.kind(#kind)));
    let pending = method
        .params
        .iter()
        .any(|p| matches!(p.kind, ParamKind::Sink { pending: true, .. }))
        .then(|| quote!(.pending_sink()));
    let unknown_id = options
        .unknown_id_errors
        .then(|| quote!(.unknown_id_errors()));
    let doc = (!method.doc.is_empty()).then(|| {
        let doc = &method.doc;
        quote!(.doc(#doc))
    });
    let mut param_infos: Vec<_> = wire
        .iter()
        .map(|p| {
            let wire_name = p.wire_name();
            let ty = type_name(&p.ty);
            let optional = looks_optional(&p.ty).then(|| quote!(.optional()));
            let schema = crate::schema::of(option_inner(&p.ty).unwrap_or(&p.ty), &rt)
                .map(|schema| quote!(.__schema(#schema)));
            quote!(.param(#rt::ParamInfo::new(#wire_name, #ty) #optional #schema))
        })
        .collect();
    if let Some(whole) = method.whole() {
        let text = whole.ident.to_string();
        let name = text.strip_prefix("r#").unwrap_or(&text);
        let ty = type_name(&whole.ty);
        let schema = crate::schema::of(&whole.ty, &rt).map(|schema| quote!(.__schema(#schema)));
        param_infos.push(quote!(.param(#rt::ParamInfo::new(#name, #ty).whole() #schema)));
    }
    let schemas = crate::schema::method(method, subscription, &rt);
    let schema_traits = crate::schema::traits(&rt);
    let declared_errors = options
        .errors
        .iter()
        .map(|(code, message)| quote!(.error(#code, #message)));
    let result_type = if subscription {
        "SubscriptionId".to_owned()
    } else {
        method
            .output
            .as_ref()
            .map_or_else(|| "()".to_owned(), type_name)
    };
    let method_doc = format!(
        "The JSON-RPC method `{name}` that calls [`{ident}`](fn@{ident}): register it with \
         `router.register({ident}::method())`."
    );
    let marker = format_ident!("__rpc_marker", span = Span::call_site());
    #[cfg(feature = "client")]
    let stubs = crate::stubs::generate(method, &rt, vis, name, pushes);
    // A kind's client sends `[kind, ...]` itself: no stub would say it rightly.
    #[cfg(feature = "client")]
    let (stub_items, stub_functions) = match &options.kind {
        None => (stubs.items, stubs.functions),
        Some(_) => (TokenStream::new(), TokenStream::new()),
    };
    #[cfg(not(feature = "client"))]
    let (stub_items, stub_functions) = (TokenStream::new(), TokenStream::new());

    quote! {
        #func

        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #[derive(Debug)]
        #vis enum #ident {}

        #stub_items

        #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_snake_case)]
        impl #ident {
            #[doc = #method_doc]
            #[must_use]
            #vis fn method<__S>() -> #rt::Method<__S>
            where
                __S: #rt::Send + #rt::Sync + 'static,
                #(#state_bound)*
            {
                #[allow(unused_imports)]
                use #rt::{ResultKind as _, ValueKind as _};
                #schema_traits

                struct __RpcParams<'__de> {
                    #(#fields: #field_types,)*
                    #marker: #rt::Marker<&'__de ()>,
                }

                struct __RpcSlots<'__de> {
                    #(#fields: #rt::Option<#field_types>,)*
                    #marker: #rt::Marker<&'__de ()>,
                }

                impl<'__de> ::core::default::Default for __RpcSlots<'__de> {
                    fn default() -> Self {
                        __RpcSlots { #(#fields: #rt::None,)* #marker: #rt::Marker }
                    }
                }

                impl<'__de> #rt::ParamList<'__de> for __RpcParams<'__de> {
                    const NAMES: &'static [&'static str] = &[#(#wire_names),*];
                    type Slots = __RpcSlots<'__de>;

                    fn index_of(key: &str) -> #rt::Option<usize> {
                        match key {
                            #(#wire_names => #rt::Some(#name_indexes),)*
                            #(#ignored => #rt::Some(#skip),)*
                            _ => #rt::None,
                        }
                    }

                    fn decode_at<__D: #rt::Deserializer<'__de>>(
                        slots: &mut Self::Slots,
                        index: usize,
                        de: __D,
                    ) -> #rt::Result<(), __D::Error> {
                        match index {
                            #(#indexes => #fills,)*
                            // A member the protocol puts there (a progress token): skipped.
                            _ => {
                                let _ = slots;
                                <#rt::IgnoredAny as #rt::Deserialize>::deserialize(de).map(|_| ())
                            }
                        }
                    }

                    fn finish(slots: Self::Slots) -> #rt::Result<Self, #rt::Missing> {
                        let _ = &slots;
                        #rt::Ok(__RpcParams { #(#fields: #missings,)* #marker: #rt::Marker })
                    }
                }

                #call
                #uses_peer
                #ordered
                #unknown_id
                #pending
                #end_notice
                #kind
                #doc
                #(#param_infos)*
                .result_type(#result_type)
                #schemas
                #(#declared_errors)*
            }

            #stub_functions
        }
    }
}

/// A span with the hygiene of the macro's call site, so generated names resolve wherever the
/// function was written (even inside a `macro_rules!`), but located at the user's `tokens`, so
/// that a compiler error about them points there.
fn at(tokens: &impl Spanned) -> Span {
    Span::call_site().located_at(tokens.span())
}
