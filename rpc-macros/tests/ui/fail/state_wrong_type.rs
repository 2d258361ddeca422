//! The one snapshot of a compiler error (not ours): a `State` of a type that is no part of
//! the router's state is reported at the parameter, with our message.
use rpc_core::{rpc_method, Router, State};

#[rpc_method]
fn count(n: State<'_, String>) -> usize {
    n.len()
}

fn main() {
    let mut router = Router::with_state(0u32);
    router.register(count::method()).unwrap();
}
