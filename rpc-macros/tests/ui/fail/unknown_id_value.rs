use rpc_core::{rpc_method, rpc_subscription, Sink};

// Neither of the two forms.
#[rpc_subscription(unknown_id = "maybe")]
async fn ticks(sink: Sink<u64>) {
    let _ = sink;
}

// A method ends no subscription.
#[rpc_method(unknown_id = "error")]
fn plain() {}

// `end_notice` is a flag.
#[rpc_subscription(end_notice = "yes")]
async fn ends(sink: Sink<u64>) {
    let _ = sink;
}

fn main() {}
