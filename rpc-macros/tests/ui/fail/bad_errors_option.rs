use rpc_core::rpc_method;

#[rpc_method(errors(4040 = "no such key", 4040 = "again"))]
fn twice() {}

#[rpc_method(errors(-99999999999 = "too low"))]
fn too_low() {}

#[rpc_method(errors(1 = ""))]
fn empty() {}

#[rpc_method(errors(oops))]
fn not_a_code() {}

#[rpc_method(errors = "4040")]
fn not_a_list() {}

#[rpc_method(errors(4040u16 = "typed"))]
fn suffixed() {}

fn main() {}
