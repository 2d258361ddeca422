use rpc_core::rpc_method;

#[rpc_method]
fn add(#[rpc(renam = "x")] a: i64, #[rpc(rename = "y", rename = "z")] b: i64) -> i64 {
    a + b
}

fn main() {}
