//! `#[rpc_method]`: a plain Rust function becomes a typed JSON-RPC 2.0 method.
//!
//! Use it through `rpc-core`, which re-exports it as `rpc_core::rpc_method`: a crate that
//! exposes methods depends on `rpc-core` alone (no serde, no serde_json of its own).
//!
//! # A tour
//!
//! ```
//! use rpc_core::{rpc_method, ErrorObject, Router};
//!
//! /// Adds two integers.
//! #[rpc_method]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! /// Divides; a zero divisor is invalid params.
//! #[rpc_method]
//! fn divide(a: i64, b: i64) -> Result<f64, ErrorObject> {
//!     if b == 0 {
//!         return Err(ErrorObject::invalid_params("division by zero"));
//!     }
//!     Ok(a as f64 / b as f64)
//! }
//!
//! // The functions are still ordinary Rust...
//! assert_eq!(add(2, 3), 5);
//!
//! // ...and beside each, the attribute adds a type of the same name whose `method()` is the
//! // JSON-RPC method, ready to register.
//! let mut router = Router::new();
//! router.register(add::method())?.register(divide::method())?;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let call = |body: &'static str| {
//!     let router = &router;
//!     async move { String::from_utf8(router.handle(body.as_bytes()).await.unwrap()).unwrap() }
//! };
//! // Parameters by name or by position.
//! assert_eq!(
//!     call(r#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#).await,
//!     r#"{"jsonrpc":"2.0","result":5,"id":1}"#
//! );
//! assert_eq!(
//!     call(r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":2}"#).await,
//!     r#"{"jsonrpc":"2.0","result":5,"id":2}"#
//! );
//! assert_eq!(
//!     call(r#"{"jsonrpc":"2.0","method":"divide","params":[1,0],"id":3}"#).await,
//!     r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"division by zero"},"id":3}"#
//! );
//! // Params that do not fit are -32602, with a sentence naming the culprit.
//! assert_eq!(
//!     call(r#"{"jsonrpc":"2.0","method":"add","params":{"a":"2","b":3},"id":4}"#).await,
//!     r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"parameter \"a\": invalid type: string \"2\", expected i64"},"id":4}"#
//! );
//! # });
//! # Ok::<(), rpc_core::RegisterError>(())
//! ```
//!
//! ## Parameters
//! Each argument is a parameter under its Rust name. Params by position (an array) and by
//! name (an object) both decode, in one pass straight from the request's text: no
//! `serde_json::Value` is built. Any `T: Deserialize` is a parameter type; `&str` borrows from
//! the request (a string with escapes then cannot be borrowed: take `String` or
//! `Cow<'_, str>` to accept any). Write lifetimes as `'_` (`Cow<'_, str>`, not `Cow<str>`).
//!
//! | params | error `data` (code -32602) |
//! |---|---|
//! | a required parameter left out | `missing parameter "b"` |
//! | a value of the wrong type | `parameter "a": invalid type: string "2", expected i64` |
//! | more values than parameters | `expected at most 2 parameters, got 3` |
//! | a name that is no parameter | `unknown parameter "c"` |
//! | a name given twice | `parameter "a": given twice` |
//!
//! `Option<T>` parameters (any type that deserializes from "no value") may be left out or
//! `null` in both shapes; trailing ones may be left off an array. A method without
//! parameters takes no params, `[]` or `{}`. Surplus values and unknown names are errors: a
//! typo in a name is never silently ignored.
//!
//! ## Options
//! ```
//! use rpc_core::rpc_method;
//!
//! /// `math.subtract`, with the parameter names of the JSON-RPC specification's examples.
//! #[rpc_method(name = "math.subtract")]
//! fn subtract(#[rpc(rename = "minuend")] a: i64, #[rpc(rename = "subtrahend")] b: i64) -> i64 {
//!     a - b
//! }
//! # let mut router = rpc_core::Router::new();
//! # router.register(subtract::method()).unwrap();
//! # assert!(router.method_info("math.subtract").is_some());
//! ```
//!
//! - `name = "..."`: the method's name on the wire (the function's name by default);
//! - `crate = "path::to::rpc_core"`: where `rpc-core` is, for crates that re-export it;
//! - on a parameter, `#[rpc(rename = "...")]`: its name on the wire.
//!
//! ## State
//! A parameter of type `State<'_, T>` receives the router's state (or the part of it that is a
//! `T`, see `rpc_core::FromState`); it is not a wire parameter.
//!
//! ```
//! use rpc_core::{rpc_method, Router, State};
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! /// Counts calls.
//! #[rpc_method]
//! fn hit(hits: State<'_, AtomicU64>) -> u64 {
//!     hits.fetch_add(1, Ordering::Relaxed) + 1
//! }
//!
//! let mut router = Router::with_state(AtomicU64::new(0));
//! router.register(hit::method())?;
//! # Ok::<(), rpc_core::RegisterError>(())
//! ```
//!
//! ## Returns and errors
//! Any `T: Serialize` is the result, `()` is `null`. A `Result<T, E>` (under any alias) sends
//! `T` as the result and turns `E` into the error object through `Into<ErrorObject>`, so a
//! `thiserror` enum with a `From` impl maps each variant to a code of your choosing:
//!
//! ```
//! use rpc_core::{rpc_method, ErrorObject};
//!
//! #[derive(Debug, thiserror::Error)]
//! enum BankError {
//!     #[error("account {0} is frozen")]
//!     Frozen(u32),
//! }
//!
//! impl From<BankError> for ErrorObject {
//!     fn from(err: BankError) -> Self {
//!         ErrorObject::new(1001, err.to_string())
//!     }
//! }
//!
//! /// Withdraws.
//! #[rpc_method]
//! async fn withdraw(account: u32, amount: u64) -> Result<u64, BankError> {
//!     Err(BankError::Frozen(account))
//! }
//! # let _ = withdraw::method::<()>();
//! ```
//!
//! `async fn`s work the same; the async calls of a batch run concurrently. A sync method
//! allocates no future.
//!
//! ## Compile errors
//! Misuse is reported at the offending token, and the function is still emitted as written,
//! so its callers see no further errors: a `self` receiver, generic or `impl Trait`
//! parameters, a pattern instead of a name, two parameters with one wire name, `unsafe fn`,
//! the attribute on something that is not a function, unknown or repeated options.
//!
//! Type problems are the compiler's to report, at your type. A parameter that cannot be
//! deserialized:
//!
//! ```compile_fail
//! struct Opaque;
//!
//! #[rpc_core::rpc_method]
//! fn take(value: Opaque) {}
//! ```
//!
//! a result that cannot be serialized:
//!
//! ```compile_fail
//! struct Opaque;
//!
//! #[rpc_core::rpc_method]
//! fn give() -> Opaque { Opaque }
//! ```
//!
//! an error that does not convert into an error object:
//!
//! ```compile_fail
//! #[rpc_core::rpc_method]
//! fn fail() -> Result<u8, std::io::Error> { Ok(1) }
//! ```
//!
//! ## Metadata
//! The doc comment, the method's name, and each parameter's wire name, Rust type and whether it
//! is optional are recorded for introspection: `Router::methods`, `Router::method_info`.

mod ast;
mod attr;
mod expand;
mod valid;

use std::cell::RefCell;

use proc_macro::TokenStream;
use quote::quote;

/// Exposes a function as a JSON-RPC method. See the crate documentation of `rpc-core`.
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
    expand(args.into(), input.into()).into()
}

fn expand(
    args: proc_macro2::TokenStream,
    input: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let errors = Errors::default();
    let options = attr::Options::parse(args, &errors);
    let Ok(mut func) = syn::parse2::<syn::ItemFn>(input.clone()) else {
        errors.push(syn::Error::new_spanned(
            &input,
            "`#[rpc_method]` applies to a free `fn` or `async fn` with a body",
        ));
        let errors = errors.into_compile_errors();
        return quote!(#input #errors);
    };
    let method = ast::Method::from_fn(&mut func, &errors);
    valid::check(&func, &method, &errors);
    if errors.is_empty() {
        expand::generate(&func, &method, &options)
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
