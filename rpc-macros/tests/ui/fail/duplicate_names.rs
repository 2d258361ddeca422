use rpc_core::rpc_method;

#[rpc_method]
fn subtract(a: i64, #[rpc(rename = "a")] b: i64) -> i64 {
    a - b
}

fn main() {}
