//! The WebSocket client's answer limit: a WebSocket cannot skip a frame it has not read, so an
//! answer over `max_response_size` ends the connection, every call waiting on it is told why,
//! and the client connects again for the next.
#![cfg(all(feature = "ws", feature = "client"))]

mod common;

use std::time::Duration;

use common::*;
use rpc_hyper::Client;

#[tokio::test]
async fn an_answer_over_the_limit_fails_the_calls_of_its_connection_with_that_reason_and_the_client_goes_on(
) {
    let server = TestServer::default().await;
    let client = Client::builder(&format!("ws://{}/", server.addr))
        .max_response_size(1_000)
        .timeout(STEP)
        .build()
        .unwrap();
    assert_eq!(client.call(common::add::call(1, 2)).await.unwrap(), 3);

    // One call waits while another's answer is too large: both end, with the same reason.
    let waiting = {
        let client = client.clone();
        tokio::spawn(async move { client.request::<String>("slow", (500,)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let big = client.call(common::big::call(10_000)).await.unwrap_err();
    let why = "a message over max_response_size (1000 bytes) ended the connection";
    assert!(big.to_string().contains(why), "{big}");
    let waited = tokio::time::timeout(STEP, waiting).await.unwrap().unwrap();
    let waited = waited.unwrap_err();
    assert!(waited.to_string().contains(why), "{waited}");

    // The client connects again: the next calls are answered.
    assert_eq!(client.call(common::add::call(2, 2)).await.unwrap(), 4);
    let small = client.request::<String>("big", (100,)).await.unwrap();
    assert_eq!(small.len(), 100);
}
