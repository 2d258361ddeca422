use rpc_core::rpc_method;

#[rpc_method(name = "add", name = "plus")]
fn add(a: i64) -> i64 {
    a
}

fn main() {}
