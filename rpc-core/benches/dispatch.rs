//! The dispatcher against the floor: the least work any JSON-RPC server must do for the same
//! request (serde parse into borrowed types, add, write the response).
//!
//! Run with `cargo bench -p rpc-core --bench dispatch`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rpc_core::{ErrorObject, Method, Params, Router};

const NAMED: &[u8] = br#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#;
const POSITIONAL: &[u8] = br#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#;
const UNKNOWN: &[u8] = br#"{"jsonrpc":"2.0","method":"nope","params":[2,3],"id":1}"#;
const BAD_PARAMS: &[u8] = br#"{"jsonrpc":"2.0","method":"add","params":{"a":"2","b":3},"id":1}"#;

/// Adds two integers.
#[rpc_core::rpc_method(name = "add")]
fn add_generated(a: i64, b: i64) -> Result<i64, ErrorObject> {
    a.checked_add(b)
        .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
}

/// The same method through `#[rpc_method]`.
fn generated_router() -> Router {
    let mut router = Router::new();
    router
        .register(add_generated::method())
        .expect("one registration");
    router
}

/// The method written by hand on the layer under the attribute.
fn router() -> Router {
    let mut router = Router::new();
    router
        .register(Method::new_sync("add", |_: &(), params: Params<'_>| {
            let floor::AddParams { a, b } = params.parse()?;
            a.checked_add(b)
                .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
        }))
        .expect("one registration");
    router
}

#[path = "support/now.rs"]
mod now;
use now::now;

#[path = "support/floor.rs"]
mod floor;

fn batch_body(len: usize) -> Vec<u8> {
    let calls: Vec<String> = (0..len)
        .map(|i| {
            format!(r#"{{"jsonrpc":"2.0","method":"add","params":{{"a":{i},"b":3}},"id":{i}}}"#)
        })
        .collect();
    format!("[{}]", calls.join(",")).into_bytes()
}

fn single(c: &mut Criterion) {
    let hand = router();
    let generated = generated_router();
    for body in [NAMED, POSITIONAL] {
        assert_eq!(now(hand.handle(body)).unwrap(), floor::single(NAMED));
        assert_eq!(now(generated.handle(body)).unwrap(), floor::single(NAMED));
    }
    let mut group = c.benchmark_group("single");
    group.throughput(Throughput::Elements(1));
    group.bench_function("floor/named", |b| {
        b.iter(|| floor::single(black_box(NAMED)))
    });
    group.bench_function("floor/positional", |b| {
        b.iter(|| floor::single(black_box(POSITIONAL)))
    });
    for (name, router) in [("hand", &hand), ("macro", &generated)] {
        for (shape, body) in [("named", NAMED), ("positional", POSITIONAL)] {
            group.bench_function(format!("{name}/{shape}"), |b| {
                b.iter(|| now(router.handle(black_box(body))))
            });
        }
    }
    group.finish();
}

fn batch(c: &mut Criterion) {
    let hand = router();
    let generated = generated_router();
    let body = batch_body(100);
    assert_eq!(now(hand.handle(&body)).unwrap(), floor::batch(&body));
    assert_eq!(now(generated.handle(&body)).unwrap(), floor::batch(&body));
    let mut group = c.benchmark_group("batch100");
    group.throughput(Throughput::Elements(100));
    group.bench_function("floor", |b| b.iter(|| floor::batch(black_box(&body))));
    group.bench_function("hand", |b| b.iter(|| now(hand.handle(black_box(&body)))));
    group.bench_function("macro", |b| {
        b.iter(|| now(generated.handle(black_box(&body))))
    });
    group.finish();
}

fn errors(c: &mut Criterion) {
    let hand = router();
    let generated = generated_router();
    let mut group = c.benchmark_group("errors");
    for (name, body) in [
        ("unknown_method", UNKNOWN),
        ("parse_error", &b"{\"jsonrpc\":"[..]),
    ] {
        group.bench_function(name, |b| b.iter(|| now(hand.handle(black_box(body)))));
    }
    group.bench_function("invalid_params/hand", |b| {
        b.iter(|| now(hand.handle(black_box(BAD_PARAMS))))
    });
    group.bench_function("invalid_params/macro", |b| {
        b.iter(|| now(generated.handle(black_box(BAD_PARAMS))))
    });
    group.finish();
}

criterion_group!(benches, single, batch, errors);
criterion_main!(benches);
