use rpc_core::rpc_method;

#[rpc_method(nmae = "math.add")]
fn add(a: i64) -> i64 {
    a
}

fn main() {}
