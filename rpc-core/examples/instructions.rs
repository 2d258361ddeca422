//! Runs one `add` call N times in-process, for counting instructions with callgrind
//! (`scripts/instructions.sh`):
//! `instructions floor|hand|macro|ext|layer|async named|positional|batch N`.
//!
//! `floor` is the least any JSON-RPC server must do: serde parses the request into borrowed
//! types, the sum is taken, serde writes the response. `ext` is the `#[rpc_method]` add that
//! also reads an extension from the call's context, handled with one; `layer` is the
//! `#[rpc_method]` add on a router with one call layer that does nothing; `async` the same with
//! one async call layer that does nothing.

use std::hint::black_box;

use rpc_core::{
    rpc_method, Answer, AsyncCallLayer, BoxFuture, Call, CallLayer, Context, ErrorObject, Ext,
    Extensions, Method, Next, Params, Router,
};

#[path = "../benches/support/floor.rs"]
mod floor;

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> Result<i64, ErrorObject> {
    a.checked_add(b)
        .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
}

/// Who calls: an extension a layer in front would insert.
#[derive(Clone)]
struct Caller(u32);

/// Adds two integers, for a caller.
#[rpc_method(name = "add")]
fn add_for(a: i64, b: i64, caller: Ext<'_, Caller>) -> Result<i64, ErrorObject> {
    a.checked_add(b)
        .and_then(|sum| sum.checked_add(i64::from(caller.0)))
        .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
}

/// A call layer that does nothing: what the layer machinery itself costs.
struct Nothing;

impl CallLayer for Nothing {}

/// An async call layer that does nothing: what the chain of futures costs a sync method.
struct Pass;

impl AsyncCallLayer for Pass {
    fn call<'a>(&'a self, call: Call<'a>, next: Next<'a>) -> BoxFuture<'a, Answer> {
        Box::pin(next.run(call))
    }
}

#[path = "../benches/support/now.rs"]
mod now;
use now::now;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [who, shape, n] = &args[..] else {
        eprintln!("usage: instructions floor|hand|macro|ext|layer|async named|positional|batch N");
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("a count");
    let body = match shape.as_str() {
        "named" => br#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#.to_vec(),
        "positional" => br#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#.to_vec(),
        "batch" => {
            let calls: Vec<String> = (0..100)
                .map(|i| {
                    format!(
                        r#"{{"jsonrpc":"2.0","method":"add","params":{{"a":{i},"b":3}},"id":{i}}}"#
                    )
                })
                .collect();
            format!("[{}]", calls.join(",")).into_bytes()
        }
        other => panic!("unknown shape {other}"),
    };
    let mut router = Router::new();
    match who.as_str() {
        "hand" => router
            .register(Method::new_sync("add", |_: &(), params: Params<'_>| {
                let floor::AddParams { a, b } = params.parse()?;
                a.checked_add(b)
                    .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
            }))
            .map(drop),
        "ext" => router.register(add_for::method()).map(drop),
        "layer" => router.layer(Nothing).register(add::method()).map(drop),
        "async" => router.async_layer(Pass).register(add::method()).map(drop),
        _ => router.register(add::method()).map(drop),
    }
    .expect("one registration");
    // Built with the `openrpc` feature, the router serves `rpc.discover` too: the other
    // calls must not pay for it.
    #[cfg(feature = "openrpc")]
    router
        .discover(rpc_core::openrpc::Info::new("instructions", "1"))
        .expect("discovery");
    let mut extensions = Extensions::new();
    extensions.insert(Caller(0));
    let cx = Context::new().with_extensions(&extensions);
    let batch = shape == "batch";
    let mut total = 0usize;
    for _ in 0..n {
        let out = if who == "floor" {
            if batch {
                floor::batch(black_box(&body))
            } else {
                floor::single(black_box(&body))
            }
        } else if who == "ext" {
            now(router.handle_with(black_box(&body), &cx)).expect("an answer")
        } else {
            now(router.handle(black_box(&body))).expect("an answer")
        };
        total += out.len();
    }
    black_box(total);
}
