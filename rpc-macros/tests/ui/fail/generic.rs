use rpc_core::rpc_method;

#[rpc_method]
fn first<T: serde::Serialize>(items: Vec<T>) -> usize {
    items.len()
}

fn main() {}
