//! The call-only declarations of the calculator (the `rpc-calc-api` crate) against the
//! calculator itself: each declared stub builds the request the server's own stub builds, and
//! works against the running calculator.

use rpc_calc_api as calc_api;
use rpc_core::{write_request, TypedCall, TypedSubscription};
use rpc_examples::calculator;
use serde::Serialize;

fn request<P: Serialize, R>(call: &TypedCall<P, R>) -> Vec<u8> {
    let mut out = Vec::new();
    write_request(&mut out, call.method(), call.params(), Some(1)).unwrap();
    out
}

fn subscribe<P: Serialize, T>(sub: &TypedSubscription<P, T>) -> (Vec<u8>, [String; 2]) {
    let mut out = Vec::new();
    write_request(&mut out, sub.subscribe_method(), sub.params(), Some(1)).unwrap();
    let names = [
        sub.unsubscribe_method().to_owned(),
        sub.notification().to_owned(),
    ];
    (out, names)
}

#[test]
fn the_declarations_have_not_drifted_from_the_server() {
    assert_eq!(
        request(&calc_api::add::call(2, 3)),
        request(&calculator::add::call(2, 3))
    );
    assert_eq!(
        request(&calc_api::subtract::call(2, 3)),
        request(&calculator::subtract::call(2, 3))
    );
    assert_eq!(
        request(&calc_api::multiply::call(2, 3)),
        request(&calculator::multiply::call(2, 3))
    );
    assert_eq!(
        request(&calc_api::divide::call(2, 3)),
        request(&calculator::divide::call(2, 3))
    );
    let interval = calculator::Millis::new(100).unwrap();
    assert_eq!(
        subscribe(&calc_api::countdown::subscribe(5, 100)),
        subscribe(&calculator::countdown::subscribe(5, interval))
    );
    assert_eq!(
        subscribe(&calc_api::results::subscribe()),
        subscribe(&calculator::results::subscribe())
    );
    // And the server has every method declared, by those names.
    let router = calculator::router();
    for name in [
        "add",
        "subtract",
        "multiply",
        "divide",
        "subscribe_countdown",
        "subscribe_results",
    ] {
        assert!(router.method_info(name).is_some(), "{name}");
    }
}

#[tokio::test]
async fn the_declared_stubs_call_the_running_calculator() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(calculator::serve(listener, async {
        stopped.await.ok();
    }));
    let client = rpc_hyper::Client::builder(&format!("http://{addr}/rpc"))
        .build()
        .unwrap();
    assert_eq!(client.call(calc_api::add::call(2, 3)).await.unwrap(), 5);
    assert_eq!(
        client.call(calc_api::divide::call(6, 3)).await.unwrap(),
        2.0
    );
    let ws = rpc_hyper::Client::builder(&format!("ws://{addr}/rpc"))
        .build()
        .unwrap();
    let mut countdown = ws
        .subscribe(calc_api::countdown::subscribe(2, 0))
        .await
        .unwrap();
    for n in (0..=2).rev() {
        assert_eq!(countdown.next().await.unwrap().unwrap(), n);
    }
    drop((countdown, ws));
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
