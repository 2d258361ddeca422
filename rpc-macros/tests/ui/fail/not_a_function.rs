use rpc_core::rpc_method;

#[rpc_method]
struct Add {
    a: i64,
}

fn main() {}
