//! Heap allocations on the hot path, counted with a counting allocator and pinned: a change
//! that adds one fails here, and must update the number on purpose.

use rpc_core::{rpc_method, Answer, AsyncCallLayer, BoxFuture, Call, ErrorObject, Next, Router};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> Result<i64, ErrorObject> {
    a.checked_add(b)
        .ok_or_else(|| ErrorObject::invalid_params("integer overflow"))
}

#[path = "../benches/support/now.rs"]
mod now;
use now::now;

/// Allocations per handled request, averaged over a few. The count is process-wide, and the
/// test harness's own thread may allocate meanwhile (on a loaded machine): that only adds, so
/// the least of a few rounds is the request's.
fn allocations(router: &Router, body: &[u8]) -> u64 {
    const RUNS: u64 = 10;
    let rounds = (0..3).map(|_| {
        let before = dhat::HeapStats::get().total_blocks;
        for _ in 0..RUNS {
            drop(now(router.handle(body)));
        }
        dhat::HeapStats::get().total_blocks - before
    });
    let total = rounds.min().unwrap_or_default();
    assert_eq!(total % RUNS, 0, "every request allocates the same");
    total / RUNS
}

// One test function: the profiler is process-wide.
#[test]
fn allocations_per_request_are_pinned() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut router = Router::new();
    router.register(add::method()).unwrap();

    let cases: &[(&str, &[u8], u64)] = &[
        // The response buffer, and nothing else.
        ("named call", br#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#, 1),
        ("positional call", br#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":"abc"}"#, 1),
        ("notification", br#"{"jsonrpc":"2.0","method":"add","params":[2,3]}"#, 1),
        ("unknown method", br#"{"jsonrpc":"2.0","method":"nope","id":1}"#, 1),
        // The buffer, the entries, and the buffer growing past its first 128 bytes.
        ("batch of 2", br#"[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"add","params":[3,4],"id":2}]"#, 2),
    ];
    for (name, body, expected) in cases {
        assert_eq!(allocations(&router, body), *expected, "{name}");
    }

    // Error paths may allocate for their messages, but a bounded, known number of times.
    let errors: &[(&str, &[u8], u64)] = &[
        (
            "invalid params",
            br#"{"jsonrpc":"2.0","method":"add","params":{"a":"2","b":3},"id":1}"#,
            ALLOCS_INVALID_PARAMS,
        ),
        ("parse error", br#"{"jsonrpc":"2.0","#, ALLOCS_PARSE_ERROR),
    ];
    for (name, body, expected) in errors {
        assert_eq!(allocations(&router, body), *expected, "{name}");
    }

    let batch: Vec<u8> = {
        let calls: Vec<String> = (0..100)
            .map(|i| {
                format!(r#"{{"jsonrpc":"2.0","method":"add","params":{{"a":{i},"b":3}},"id":{i}}}"#)
            })
            .collect();
        format!("[{}]", calls.join(",")).into_bytes()
    };
    assert_eq!(
        allocations(&router, &batch),
        ALLOCS_BATCH_100,
        "batch of 100"
    );

    // One async layer that does nothing: a sync method's call pays the layer's future and
    // a buffer for its result (the layer may read or replace it), and nothing more.
    router.async_layer(Nothing);
    let named = br#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#;
    assert_eq!(
        allocations(&router, named),
        1 + 2,
        "named call, async layer"
    );
    let note = br#"{"jsonrpc":"2.0","method":"add","params":[2,3]}"#;
    assert_eq!(
        allocations(&router, note),
        1 + 2,
        "notification, async layer"
    );
}

/// An async layer that does nothing: what the chain itself costs.
struct Nothing;

impl AsyncCallLayer for Nothing {
    fn call<'a>(&'a self, call: Call<'a>, next: Next<'a>) -> BoxFuture<'a, Answer> {
        Box::pin(next.run(call))
    }
}

/// The error's message and data are formatted: serde's text, the parameter's name, the data
/// serialized once.
const ALLOCS_INVALID_PARAMS: u64 = 14;
/// serde_json's error and its text, kept as the error's data.
const ALLOCS_PARSE_ERROR: u64 = 8;
/// The buffer (sized from the request once), the entry list growing 16 -> 32 -> 64 -> 128, and
/// one more growth of the buffer.
const ALLOCS_BATCH_100: u64 = 6;
