use rpc_core::{rpc_method, Ext, State};

#[rpc_method]
fn renamed(#[rpc(rename = "s")] s: State<'_, u32>) -> u32 {
    *s
}

#[rpc_method]
fn renamed_ext(#[rpc(rename = "u")] user: Ext<'_, String>) -> String {
    (*user).clone()
}

fn main() {}
