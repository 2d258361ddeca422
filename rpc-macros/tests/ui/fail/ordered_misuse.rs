use rpc_core::{rpc_method, rpc_subscription, Sink};

#[rpc_method(ordered = true)]
fn with_a_value() -> i64 {
    1
}

#[rpc_method(ordered, ordered)]
fn twice() -> i64 {
    2
}

#[rpc_subscription(ordered)]
async fn on_a_subscription(sink: Sink<u8>) {
    let _ = sink;
}

fn main() {}
