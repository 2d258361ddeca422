use rpc_core::{rpc_method, rpc_subscription, CancelToken, Progress, Sink};

#[rpc_method]
async fn bare(progress: Progress) -> u8 {
    let _ = progress;
    1
}

#[rpc_subscription]
async fn in_a_subscription(progress: Option<Progress>, sink: Sink<u8>) {
    let _ = (progress, sink);
}

#[rpc_subscription]
async fn cancellable_subscription(cancel: CancelToken, sink: Sink<u8>) {
    let _ = (cancel, sink);
}

fn main() {}
