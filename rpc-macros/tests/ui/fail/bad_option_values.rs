use rpc_core::rpc_method;

#[rpc_method(name = add, crate = "not a path")]
fn add(a: i64) -> i64 {
    a
}

#[rpc_method(name = "")]
fn sub(a: i64) -> i64 {
    a
}

#[rpc_method(name)]
fn mul(a: i64) -> i64 {
    a
}

fn main() {}
