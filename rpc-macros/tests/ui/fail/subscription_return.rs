use rpc_core::{rpc_subscription, Sink};

/// Returns a value no one would see.
#[rpc_subscription]
async fn ticks(sink: Sink<u64>) -> u64 {
    let _ = sink;
    1
}

fn main() {}
