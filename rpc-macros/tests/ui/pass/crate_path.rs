// The runtime reached through a re-export, as a crate wrapping ours would.
mod reexport {
    pub use rpc_core as rpc;
}

use rpc_core::rpc_method;

#[rpc_method(crate = "reexport::rpc")]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {
    let mut router = rpc_core::Router::new();
    router.register(add::method()).unwrap();
}
