//! `#[rpc_method]`: a plain Rust function becomes a typed JSON-RPC 2.0 method.
//!
//! Use it through `rpc-core`, which re-exports it as `rpc_core::rpc_method`: a crate that
//! exposes methods depends on `rpc-core` alone (no serde, no serde_json of its own).
//!
//! The reference, with a tour of every option, is the re-export's documentation:
//! `rpc_core::rpc_method`.

mod ast;
mod attr;
mod declare;
mod expand;
mod lifetimes;
mod schema;
#[cfg(feature = "client")]
mod stubs;
mod valid;

use std::cell::RefCell;

use proc_macro::TokenStream;
use quote::quote;

/// Exposes a function as a JSON-RPC method (the reference is `rpc_core::rpc_method`).
///
/// ```
/// use rpc_core::{rpc_method, Router};
///
/// /// Adds two integers.
/// #[rpc_method]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// assert_eq!(add(2, 3), 5); // still an ordinary function
/// let mut router = Router::new();
/// router.register(add::method())?;
/// # Ok::<(), rpc_core::RegisterError>(())
/// ```
#[proc_macro_attribute]
pub fn rpc_method(args: TokenStream, input: TokenStream) -> TokenStream {
    expand(args.into(), input.into(), false).into()
}

/// Exposes an `async fn` taking a `Sink<T>` as a subscription (the reference is
/// `rpc_core::rpc_subscription`).
#[proc_macro_attribute]
pub fn rpc_subscription(args: TokenStream, input: TokenStream) -> TokenStream {
    expand(args.into(), input.into(), true).into()
}

fn expand(
    args: proc_macro2::TokenStream,
    input: proc_macro2::TokenStream,
    subscription: bool,
) -> proc_macro2::TokenStream {
    let errors = Errors::default();
    let options = attr::Options::parse(args, subscription, &errors);
    let (mut func, declared) = match syn::parse2::<syn::ItemFn>(input.clone()) {
        Ok(func) => (func, false),
        // A declaration, without a body: it makes the client stub alone.
        Err(_) => match syn::parse2::<syn::ForeignItemFn>(input.clone()) {
            Ok(declaration) => {
                let (attrs, vis, sig) = (&declaration.attrs, &declaration.vis, &declaration.sig);
                (syn::parse_quote!(#(#attrs)* #vis #sig {}), true)
            }
            Err(_) => {
                let attribute = if subscription {
                    "`#[rpc_subscription]` applies to a free `async fn`, with a body or declared without one"
                } else {
                    "`#[rpc_method]` applies to a free `fn` or `async fn`, with a body or declared without one"
                };
                errors.push(syn::Error::new_spanned(&input, attribute));
                let errors = errors.into_compile_errors();
                return quote!(#input #errors);
            }
        },
    };
    let method = ast::Method::from_fn(&mut func, &errors);
    valid::check(&func, &method, subscription, &errors);
    if errors.is_empty() && declared {
        declare::declaration(&func, &method, &options, subscription, &errors)
    } else if errors.is_empty() {
        expand::generate(&func, &method, &options, subscription)
    } else if declared {
        errors.into_compile_errors()
    } else {
        // The function still compiles as written, so its callers see no cascade of errors.
        let errors = errors.into_compile_errors();
        quote!(#func #errors)
    }
}

/// Every mistake found, so that all are reported at once, each at its own tokens.
#[derive(Default)]
struct Errors(RefCell<Option<syn::Error>>);

impl Errors {
    fn push(&self, error: syn::Error) {
        let mut slot = self.0.borrow_mut();
        match slot.as_mut() {
            Some(first) => first.combine(error),
            None => *slot = Some(error),
        }
    }

    fn is_empty(&self) -> bool {
        self.0.borrow().is_none()
    }

    fn into_compile_errors(self) -> proc_macro2::TokenStream {
        self.0
            .into_inner()
            .map(|e| e.to_compile_error())
            .unwrap_or_default()
    }
}
