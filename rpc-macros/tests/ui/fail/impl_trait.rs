use rpc_core::rpc_method;

#[rpc_method]
fn show(value: impl std::fmt::Display, items: Vec<impl Clone>) -> usize {
    value.to_string().len() + items.len()
}

fn main() {}
