use rpc_core::{rpc_method, State};

#[rpc_method]
fn two(a: State<'_, u32>, b: State<'_, u32>) -> u32 {
    *a + *b
}

#[rpc_method]
fn renamed(#[rpc(rename = "s")] s: State<'_, u32>) -> u32 {
    *s
}

fn main() {}
