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

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(calculator: &Calculator) -> Ws {
    let url = calculator.url("/rpc").replace("http://", "ws://");
    let (ws, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(url))
        .await
        .expect("handshake in time")
        .expect("a WebSocket");
    ws
}

async fn next(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(STEP, ws.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("a message")
        {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("not text: {other:?}"),
        }
    }
}

async fn call(ws: &mut Ws, body: &str) -> Value {
    ws.send(Message::text(body)).await.unwrap();
    next(ws).await
}

#[tokio::test]
async fn subscribe_countdown_counts_down_in_either_shape_then_ends() {
    let calculator = Calculator::start().await;
    let mut ws = connect(&calculator).await;
    for (params, from) in [(r#"{"from":3,"interval_ms":20}"#, 3u64), ("[2,0]", 2)] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"subscribe_countdown","params":{params},"id":1}}"#
        );
        let started = std::time::Instant::now();
        let answer = call(&mut ws, &body).await;
        let id = answer["result"].as_str().unwrap().to_owned();
        for n in (0..=from).rev() {
            assert_eq!(
                next(&mut ws).await,
                json!({"jsonrpc":"2.0","method":"countdown","params":{"subscription":id,"result":n}})
            );
        }
        if from == 3 {
            // Four numbers, one every 20 ms: the first at once, the last 60 ms on.
            assert!(started.elapsed() >= std::time::Duration::from_millis(60));
        }
        // It ended: the next frame answers the next call.
        let answer = call(
            &mut ws,
            r#"{"jsonrpc":"2.0","method":"add","params":[1,1],"id":2}"#,
        )
        .await;
        assert_eq!(answer["id"], 2);
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"unsubscribe_countdown","params":["{id}"],"id":3}}"#
        );
        assert_eq!(call(&mut ws, &body).await["result"], false);
    }

    // `n` up to u64's largest; ended early by the client.
    let body = r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[18446744073709551615,10],"id":4}"#;
    let id = call(&mut ws, body).await["result"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(next(&mut ws).await["params"]["result"], u64::MAX);
    let body =
        format!(r#"{{"jsonrpc":"2.0","method":"unsubscribe_countdown","params":["{id}"],"id":5}}"#);
    ws.send(Message::text(body)).await.unwrap();
    loop {
        let message = next(&mut ws).await;
        if message["id"] == 5 {
            assert_eq!(message["result"], true);
            break;
        }
        assert_eq!(message["params"]["subscription"], id.as_str());
    }
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"add","params":[1,1],"id":6}"#,
    )
    .await;
    assert_eq!(answer["id"], 6, "nothing after the unsubscribe answer");

    // Over a minute between numbers, or no number at all: invalid params, nothing starts.
    for params in ["[5,60001]", r#"{"from":5}"#, "[-1,0]"] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"subscribe_countdown","params":{params},"id":7}}"#
        );
        let answer = call(&mut ws, &body).await;
        assert_eq!(answer["error"]["code"], -32602, "{params}: {answer}");
    }
    calculator.stop().await;
}

#[tokio::test]
async fn subscribe_results_sees_every_successful_calculation_of_every_client() {
    let calculator = Calculator::start().await;
    let mut watcher = connect(&calculator).await;
    let mut other = connect(&calculator).await;
    let id = call(
        &mut watcher,
        r#"{"jsonrpc":"2.0","method":"subscribe_results","id":1}"#,
    )
    .await["result"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = rpc_tests::client(false);
    let url = calculator.url("/rpc");
    // Over HTTP by name, over another WebSocket by position, in a batch, and failures.
    rpc_tests::send(
        &http,
        "POST",
        &url,
        r#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#,
    )
    .await;
    rpc_tests::send(
        &http,
        "POST",
        &url,
        r#"{"jsonrpc":"2.0","method":"divide","params":[1,0],"id":2}"#,
    )
    .await;
    call(
        &mut other,
        r#"{"jsonrpc":"2.0","method":"subtract","params":[10,4],"id":3}"#,
    )
    .await;
    call(
        &mut other,
        r#"{"jsonrpc":"2.0","method":"add","params":[9223372036854775807,1],"id":4}"#,
    )
    .await;
    call(
        &mut other,
        r#"[{"jsonrpc":"2.0","method":"multiply","params":{"b":7,"a":6},"id":5},{"jsonrpc":"2.0","method":"divide","params":[6,3]}]"#,
    )
    .await;
    let expected = [
        json!({"method":"add","a":2,"b":3,"result":5}),
        json!({"method":"subtract","a":10,"b":4,"result":6}),
        json!({"method":"multiply","a":6,"b":7,"result":42}),
        json!({"method":"divide","a":6,"b":3,"result":2.0}),
    ];
    for result in expected {
        assert_eq!(
            next(&mut watcher).await,
            json!({"jsonrpc":"2.0","method":"results","params":{"subscription":id,"result":result}})
        );
    }
    let body =
        format!(r#"{{"jsonrpc":"2.0","method":"unsubscribe_results","params":["{id}"],"id":9}}"#);
    assert_eq!(call(&mut watcher, &body).await["result"], true);
    call(
        &mut other,
        r#"{"jsonrpc":"2.0","method":"add","params":[1,1],"id":10}"#,
    )
    .await;
    let answer = call(
        &mut watcher,
        r#"{"jsonrpc":"2.0","method":"add","params":[0,0],"id":11}"#,
    )
    .await;
    assert_eq!(answer["id"], 11, "unsubscribed: no more results");
    calculator.stop().await;
}

/// The README's "Watch the results": its watcher in Python's `websockets`, its curl
/// commands sent meanwhile, and exactly the output it shows.
#[tokio::test]
async fn the_readmes_watch_and_compute_story_prints_what_it_says() {
    use tokio::io::AsyncBufReadExt;
    let Some(mut python) = rpc_tests::python("websockets") else {
        return;
    };
    let calculator = Calculator::start().await;
    let ws_url = calculator.url("/rpc").replace("http://", "ws://");
    let script = readme_block("#### Watch the results", "python");
    let mut child = python
        .arg("-c")
        .arg(script)
        .args([ws_url.as_str(), "2"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    // Subscribed: only now do the calculations start.
    let first = tokio::time::timeout(STEP, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    printed.push(first);
    let commands = readme_block("#### Watch the results", "sh").replace("\\\n", " ");
    let http = rpc_tests::client(false);
    for command in commands.lines().filter(|line| !line.trim().is_empty()) {
        let words = rpc_tests::shell_words(command);
        let body = &words[words.iter().position(|w| w == "-d").unwrap() + 1];
        rpc_tests::send(&http, "POST", &calculator.url("/rpc"), body).await;
    }
    while let Some(line) = tokio::time::timeout(STEP, lines.next_line())
        .await
        .unwrap()
        .unwrap()
    {
        printed.push(line);
    }
    let status = tokio::time::timeout(STEP, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        printed.join("\n").trim(),
        readme_block("#### Watch the results", "text").trim()
    );
    calculator.stop().await;
}
