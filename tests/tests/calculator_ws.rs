//! The calculator over WebSocket at `/rpc`: with tokio-tungstenite's client, and with the
//! README's example in Python's `websockets`, a client library we did not write, where it is
//! installed (CI installs it).

use futures_util::{SinkExt, StreamExt};
use rpc_tests::{readme_block, run_python, Calculator, STEP};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn the_calculator_answers_calls_and_batches_over_a_websocket() {
    let calculator = Calculator::start().await;
    let url = calculator.url("/rpc").replace("http://", "ws://");
    let (mut ws, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(url))
        .await
        .expect("handshake in time")
        .expect("a WebSocket");
    let mut call = async |body: &str| -> Value {
        ws.send(Message::text(body)).await.unwrap();
        loop {
            match tokio::time::timeout(STEP, ws.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap()
            {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("not text: {other:?}"),
            }
        }
    };
    assert_eq!(
        call(r#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#).await,
        json!({"jsonrpc":"2.0","result":5,"id":1})
    );
    assert_eq!(
        call(r#"{"jsonrpc":"2.0","method":"divide","params":[1,0],"id":2}"#).await,
        json!({"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"division by zero"},"id":2})
    );
    assert_eq!(
        call(r#"[{"jsonrpc":"2.0","method":"multiply","params":[6,7],"id":"x"},{"jsonrpc":"2.0","method":"subtract","params":[1,2]}]"#).await,
        json!([{"jsonrpc":"2.0","result":42,"id":"x"}])
    );
    calculator.stop().await;
}

#[tokio::test]
async fn pythons_websockets_library_gets_the_same_answers() {
    let calculator = Calculator::start().await;
    let url = calculator.url("/rpc").replace("http://", "ws://");
    let script = readme_block("### Over a WebSocket", "python");
    if let Some(printed) = run_python("websockets", script, &[&url]).await {
        assert_eq!(
            printed,
            readme_block("### Over a WebSocket", "text"),
            "the README's WebSocket example prints what the README says"
        );
    }
    calculator.stop().await;
}
