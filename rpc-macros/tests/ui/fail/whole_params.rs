use rpc_core::{rpc_method, State};

#[derive(serde::Deserialize)]
struct Filter {
    prefix: String,
}

#[rpc_method]
fn with_another(#[rpc(params)] filter: Filter, limit: u32) -> String {
    format!("{}{limit}", filter.prefix)
}

#[rpc_method]
fn renamed(#[rpc(params, rename = "f")] filter: Filter) -> String {
    filter.prefix
}

#[rpc_method]
fn valued(#[rpc(params = "yes")] filter: Filter) -> String {
    filter.prefix
}

#[rpc_method]
fn state(#[rpc(params)] count: State<'_, u32>) -> u32 {
    *count
}

fn main() {}
