use rpc_core::{rpc_method, ErrorObject, Peer};

/// Asks back.
#[rpc_method]
async fn asks(peer: Peer, n: i64) -> Result<i64, ErrorObject> {
    Ok(peer.request("double", [n]).await?)
}

/// Tells, from a sync method.
#[rpc_method]
fn tells(peer: rpc_core::Peer) -> Result<(), ErrorObject> {
    Ok(peer.try_notify("told", ())?)
}

/// Runs alone.
#[rpc_method(ordered)]
fn alone() -> u8 {
    1
}

fn main() {
    let asks = asks::method::<()>();
    assert!(asks.info().uses_peer && !asks.info().ordered);
    // A `Peer` is no wire parameter: `n` is the only one.
    assert_eq!(asks.info().params.len(), 1);
    assert!(tells::method::<()>().info().uses_peer);
    let alone = alone::method::<()>();
    assert!(alone.info().ordered && !alone.info().uses_peer);
}
