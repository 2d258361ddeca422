//! A method declared without a body: its client stub alone (the `client` feature).

use proc_macro2::TokenStream;
#[cfg(feature = "client")]
use quote::quote;
use syn::ItemFn;

use crate::ast::Method;
#[cfg(feature = "client")]
use crate::ast::ParamKind;
use crate::attr::Options;
#[cfg(feature = "client")]
use crate::lifetimes::named_lifetimes;

/// A method declared without a body (`fn add(a: i64, b: i64) -> i64;`), for a crate that only
/// calls it: the client stub alone, beside an empty type of the same name. The declaration's
/// doc comment goes on the stub.
pub(crate) fn declaration(
    func: &ItemFn,
    method: &Method,
    options: &Options,
    subscription: bool,
    errors: &crate::Errors,
) -> TokenStream {
    #[cfg(feature = "client")]
    {
        let _ = errors;
        let rt = options.runtime();
        let ident = &method.ident;
        let vis = &func.vis;
        let names = options.names(ident, subscription);
        let name = &names.name;
        let pushes = names.pushes();
        let stubs = crate::stubs::generate(method, &rt, vis, name, pushes);
        let (items, functions) = (stubs.items, stubs.functions);
        let doc = &method.doc;
        let type_doc = format!("The JSON-RPC method `{name}`, declared for calling it.");
        // The server-side parameters (the sink, `State`, `Ext`, the context) have no part in
        // the stub; their types are named once all the same, so that the imports a
        // declaration copied from the implementation are not left unused.
        let named_types = method
            .params
            .iter()
            .filter(|p| !matches!(p.kind, ParamKind::Wire { .. } | ParamKind::Whole))
            .map(|p| {
                let ty = named_lifetimes(&p.ty, "'static");
                quote!(const _: ::core::marker::PhantomData<fn() -> #ty> = ::core::marker::PhantomData;)
            });
        quote! {
            #(#named_types)*

            #[doc = #type_doc]
            #[doc = ""]
            #[doc = #doc]
            #[allow(non_camel_case_types, dead_code)]
            #[derive(Debug)]
            #vis enum #ident {}

            #items

            #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_snake_case)]
            impl #ident {
                #functions
            }
        }
    }
    #[cfg(not(feature = "client"))]
    {
        let _ = (method, options, subscription, errors);
        syn::Error::new_spanned(
            &func.sig,
            "a method declared without a body makes only a client stub: turn on rpc-core's `client` feature",
        )
        .to_compile_error()
    }
}
