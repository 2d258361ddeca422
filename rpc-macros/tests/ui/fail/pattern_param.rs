use rpc_core::rpc_method;

#[rpc_method]
fn add((a, b): (i64, i64), ref c: i64) -> i64 {
    a + b + *c
}

fn main() {}
