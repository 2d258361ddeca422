use rpc_core::rpc_method;

// The attribute is misused, but the function is still emitted: the call in main compiles,
// and the only error is the attribute's own.
#[rpc_method(unknown = 1)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {
    assert_eq!(add(2, 3), 5);
}
