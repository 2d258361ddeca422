//! Subscriptions over a real WebSocket: the wire format, order, unsubscribing, the limits,
//! a slow subscriber, broadcast, shutdown, and HTTP's refusal.
#![cfg(feature = "ws")]

mod common;

use std::time::Duration;

use common::ws::*;
use common::*;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

async fn subscribe(ws: &mut Ws, body: &str) -> String {
    let answer = call(ws, body).await;
    let id = answer["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(id.starts_with("0x") && id.len() == 34, "{id}");
    id.to_owned()
}

#[tokio::test]
async fn a_countdown_answers_the_id_then_every_number_in_order_then_nothing() {
    let server = TestServer::default().await;
    let mut ws = open(&server, &[]).await.unwrap();
    let id = subscribe(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":{"from":50,"interval_ms":0},"id":1}"#,
    )
    .await;
    for n in (0..=50).rev() {
        assert_eq!(
            next(&mut ws).await,
            json!({"jsonrpc":"2.0","method":"countdown","params":{"subscription":id,"result":n}})
        );
    }
    // Ended with its method: the next frame is the next call's answer.
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":2}"#,
    )
    .await;
    assert_eq!(answer, json!({"jsonrpc":"2.0","result":5,"id":2}));
    let body =
        format!(r#"{{"jsonrpc":"2.0","method":"unsubscribe_countdown","params":["{id}"],"id":3}}"#);
    assert_eq!(call(&mut ws, &body).await["result"], false);
}

#[tokio::test]
async fn eth_subscribe_in_ethereums_own_names_and_no_item_after_the_unsubscribe_answer() {
    let server = TestServer::default().await;
    let mut ws = open(&server, &[]).await.unwrap();
    let id = subscribe(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"eth_subscribe","params":["newHeads"],"id":1}"#,
    )
    .await;
    let mut expected = 0;
    for _ in 0..5 {
        let note = next(&mut ws).await;
        assert_eq!(note["method"], "eth_subscription");
        assert_eq!(note["params"]["subscription"], id.as_str());
        assert_eq!(note["params"]["result"]["number"], format!("{expected:#x}"));
        expected += 1;
    }
    let body =
        format!(r#"{{"jsonrpc":"2.0","method":"eth_unsubscribe","params":["{id}"],"id":2}}"#);
    ws.send(Message::text(body.clone())).await.unwrap();
    // Items sent before the answer may still come; none after it.
    loop {
        let message = next(&mut ws).await;
        if message.get("id").is_some() {
            assert_eq!(message, json!({"jsonrpc":"2.0","result":true,"id":2}));
            break;
        }
        assert_eq!(
            message["params"]["result"]["number"],
            format!("{expected:#x}")
        );
        expected += 1;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"add","params":[1,1],"id":3}"#,
    )
    .await;
    assert_eq!(
        answer["id"], 3,
        "no item after the unsubscribe answer: {answer}"
    );
    assert_eq!(call(&mut ws, &body).await["result"], false);

    // An unknown kind is the caller's mistake; the syncing one sends once.
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"eth_subscribe","params":["logz"],"id":4}"#,
    )
    .await;
    assert_eq!(answer["error"]["code"], -32602);
    let id = subscribe(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"eth_subscribe","params":["syncing"],"id":5}"#,
    )
    .await;
    assert_eq!(
        next(&mut ws).await,
        json!({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":id,"result":false}})
    );
}

#[tokio::test]
async fn over_http_a_subscribe_call_says_a_websocket_is_needed() {
    let server = TestServer::default().await;
    for client in each_protocol() {
        let reply = post(
            &client,
            &server.url("/"),
            r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[3,0],"id":1}"#,
        )
        .await;
        assert_eq!(reply.status, 200);
        let answer = reply.json();
        assert_eq!(answer["error"]["code"], -32009);
        assert_eq!(
            answer["error"]["message"],
            "Subscriptions need a WebSocket connection"
        );
    }
}

#[tokio::test]
async fn one_subscription_past_the_limit_is_refused_and_the_others_go_on() {
    let server = TestServer::start(|e| e.max_subscriptions(3), |s| s).await;
    let mut ws = open(&server, &[]).await.unwrap();
    for id in 1..=3 {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"subscribe_news","id":{id}}}"#);
        subscribe(&mut ws, &body).await;
    }
    let refused = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"subscribe_news","id":4}"#,
    )
    .await;
    assert_eq!(
        refused["error"],
        json!({"code":-32010,"message":"Too many subscriptions","data":{"limit":3}})
    );
    let reply = post(
        &http1(),
        &server.url("/"),
        r#"{"jsonrpc":"2.0","method":"publish","params":["hi"],"id":1}"#,
    )
    .await;
    assert_eq!(reply.json()["result"], 3);
    for _ in 0..3 {
        assert_eq!(next(&mut ws).await["params"]["result"], "hi");
    }
}

#[tokio::test]
async fn a_broadcast_reaches_every_connection_and_forgets_the_ones_gone() {
    let server = TestServer::default().await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        let mut ws = open(&server, &[]).await.unwrap();
        for id in 0..4 {
            let body = format!(r#"{{"jsonrpc":"2.0","method":"subscribe_news","id":{id}}}"#);
            subscribe(&mut ws, &body).await;
        }
        clients.push(ws);
    }
    assert_eq!(server.router.state().news.subscribers(), 20);
    // Published over HTTP; the WebSocket of the publisher itself gets it too.
    let reply = post(
        &http1(),
        &server.url("/"),
        r#"{"jsonrpc":"2.0","method":"publish","params":["block 1"],"id":1}"#,
    )
    .await;
    assert_eq!(reply.json()["result"], 20);
    for ws in &mut clients {
        for _ in 0..4 {
            let note = next(ws).await;
            assert_eq!(note["method"], "news");
            assert_eq!(note["params"]["result"], "block 1");
        }
    }
    // Connections gone: their subscribers are detached.
    clients.truncate(1);
    let deadline = tokio::time::Instant::now() + STEP;
    while server.router.state().news.subscribers() != 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscribers left behind"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_thousand_subscribe_and_vanish_cycles_leave_no_subscriber_behind() {
    let server = TestServer::default().await;
    for round in 0..1_000 {
        let mut ws = open(&server, &[]).await.unwrap();
        let body = format!(r#"{{"jsonrpc":"2.0","method":"subscribe_news","id":{round}}}"#);
        subscribe(&mut ws, &body).await;
        if round % 2 == 0 {
            // Half leave without a close frame.
            drop(ws);
        } else {
            ws.close(None).await.ok();
        }
    }
    let deadline = tokio::time::Instant::now() + STEP;
    while server.router.state().news.subscribers() != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscribers left behind"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut ws = open(&server, &[]).await.unwrap();
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#,
    )
    .await;
    assert_eq!(answer["result"], 5);
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_closed_with_1008_and_the_others_go_on() {
    let server = TestServer::start(
        |e| {
            e.send_timeout(Duration::from_millis(300))
                .max_queued(64, 64 << 10)
        },
        |s| s,
    )
    .await;
    // A countdown from ten million as fast as it can go, never read.
    let mut stuck = raw(&server).await;
    let body = br#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[10000000,0],"id":1}"#;
    write_all(&mut stuck, &frame(0x1, body, true)).await;

    // Meanwhile another client is served as ever.
    let mut ws = open(&server, &[]).await.unwrap();
    for id in 0..20 {
        let started = std::time::Instant::now();
        let body = format!(r#"{{"jsonrpc":"2.0","method":"add","params":[{id},1],"id":{id}}}"#);
        assert_eq!(call(&mut ws, &body).await["result"], id + 1);
        assert!(started.elapsed() < Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    // The stuck client reads at last: what the kernel held, then the close frame, 1008.
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let read = tokio::time::timeout_at(deadline, stuck.read(&mut buf))
            .await
            .expect("the connection ends in time");
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    // The close frame is the last thing sent: 0x88, its length, then the code.
    let close = seen
        .windows(4)
        .rposition(|w| w[0] == 0x88 && w[2..4] == 1008u16.to_be_bytes())
        .expect("a close frame with 1008");
    assert!(seen.len() - close < 64, "the close frame comes last");
}

#[tokio::test]
async fn a_panicking_subscription_ends_alone() {
    let server = TestServer::default().await;
    let mut ws = open(&server, &[]).await.unwrap();
    subscribe(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"subscribe_explode","id":1}"#,
    )
    .await;
    assert_eq!(next(&mut ws).await["params"]["result"], 1);
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":2}"#,
    )
    .await;
    assert_eq!(answer["result"], 5);
}

#[tokio::test]
async fn shutdown_ends_endless_subscriptions_at_once_and_closes_with_1001() {
    let server = TestServer::default().await;
    let mut ws = open(&server, &[]).await.unwrap();
    subscribe(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"eth_subscribe","params":["newHeads"],"id":1}"#,
    )
    .await;
    next(&mut ws).await;
    let started = std::time::Instant::now();
    let stopping = tokio::spawn(server.stop());
    assert_eq!(closed_with(&mut ws).await, Some(CloseCode::Away));
    stopping.await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn many_subscriptions_of_one_connection_interleave_each_in_order_after_its_answer() {
    let server = TestServer::default().await;
    let mut ws = open(&server, &[]).await.unwrap();
    for id in 0..10 {
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"subscribe_countdown","params":[100,0],"id":{id}}}"#
        );
        ws.send(Message::text(body)).await.unwrap();
    }
    // Answered ids, and each subscription's last number.
    let mut last: std::collections::HashMap<String, Option<u64>> = std::collections::HashMap::new();
    let mut done = 0;
    while done < 10 {
        let message = next(&mut ws).await;
        if let Some(id) = message["result"].as_str() {
            assert!(last.insert(id.to_owned(), None).is_none());
            continue;
        }
        let id = message["params"]["subscription"].as_str().unwrap();
        let n = message["params"]["result"].as_u64().unwrap();
        let previous = last.get_mut(id).expect("the answer with the id came first");
        assert_eq!(previous.map_or(100, |p| p - 1), n, "in order");
        *previous = Some(n);
        if n == 0 {
            done += 1;
        }
    }
    assert_eq!(last.len(), 10);
}

#[tokio::test]
async fn a_websocket_holds_its_connection_slot_until_it_closes() {
    let server = TestServer::start(|e| e, |s| s.max_connections(1)).await;
    let mut ws = open(&server, &[]).await.unwrap();
    subscribe(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"subscribe_news","id":1}"#,
    )
    .await;
    // The only slot is the WebSocket's: another connection waits in the backlog.
    let waiting = tokio::time::timeout(Duration::from_millis(300), open(&server, &[])).await;
    assert!(
        waiting.is_err(),
        "a second connection was served beside the WebSocket"
    );
    ws.close(None).await.unwrap();
    drop(ws);
    let mut next_one = tokio::time::timeout(STEP, open(&server, &[]))
        .await
        .expect("the slot comes free when the WebSocket closes")
        .unwrap();
    let answer = call(
        &mut next_one,
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#,
    )
    .await;
    assert_eq!(answer["result"], 5);
}

#[tokio::test]
async fn a_flood_of_subscribe_and_unsubscribe_leaves_nothing_behind() {
    let server = TestServer::default().await;
    let mut ws = open(&server, &[]).await.unwrap();
    for round in 0..500 {
        // Pipelined: subscribe twice, then unsubscribe the first once its id is known.
        let body = format!(
            r#"[{{"jsonrpc":"2.0","method":"subscribe_news","id":{round}}},{{"jsonrpc":"2.0","method":"eth_subscribe","params":["newHeads"],"id":"h"}}]"#
        );
        let answer = call(&mut ws, &body).await;
        let mut ids = Vec::new();
        let mut answers = vec![answer];
        // Notifications of the heads may come between answers.
        while !answers.iter().any(Value::is_array) {
            answers.push(next(&mut ws).await);
        }
        for item in answers.iter().filter_map(Value::as_array).flatten() {
            ids.push(item["result"].as_str().unwrap().to_owned());
        }
        let body = format!(
            r#"[{{"jsonrpc":"2.0","method":"unsubscribe_news","params":["{}"],"id":1}},{{"jsonrpc":"2.0","method":"eth_unsubscribe","params":["{}"],"id":2}}]"#,
            ids[0], ids[1]
        );
        ws.send(Message::text(body)).await.unwrap();
        loop {
            let message = next(&mut ws).await;
            if let Some(items) = message.as_array() {
                assert!(items.iter().all(|item| item["result"] == true), "{message}");
                break;
            }
        }
    }
    assert_eq!(server.router.state().news.subscribers(), 0);
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":9}"#,
    )
    .await;
    assert_eq!(answer["result"], 5, "and no stray notification before it");
}

#[tokio::test]
async fn a_client_that_vanishes_mid_frame_with_subscriptions_harms_no_one() {
    let server = TestServer::default().await;
    for _ in 0..20 {
        let mut stream = raw(&server).await;
        for id in 0..3 {
            let body = format!(r#"{{"jsonrpc":"2.0","method":"subscribe_news","id":{id}}}"#);
            write_all(&mut stream, &frame(0x1, body.as_bytes(), true)).await;
        }
        let body = br#"{"jsonrpc":"2.0","method":"eth_subscribe","params":["newHeads"],"id":9}"#;
        write_all(&mut stream, &frame(0x1, body, true)).await;
        // Half of a frame, then gone.
        let half = frame(
            0x1,
            br#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":5}"#,
            true,
        );
        write_all(&mut stream, &half[..half.len() / 2]).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(stream);
    }
    let deadline = tokio::time::Instant::now() + STEP;
    while server.router.state().news.subscribers() != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscribers left behind"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut ws = open(&server, &[]).await.unwrap();
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#,
    )
    .await;
    assert_eq!(answer["result"], 5);
}

#[tokio::test]
async fn broadcasts_beside_a_countdown_that_fills_the_queue_reach_a_client_that_reads() {
    let server = TestServer::start(|e| e.max_queued(16, 1 << 20), |s| s).await;
    let mut ws = open(&server, &[]).await.unwrap();
    subscribe(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"subscribe_news","id":1}"#,
    )
    .await;
    // A countdown at full speed keeps the queue full for as long as it runs.
    ws.send(Message::text(
        r#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[100000,0],"id":2}"#,
    ))
    .await
    .unwrap();
    let publisher = http1();
    let url = server.url("/");
    let mut news = 0;
    let mut published = 0;
    while news < 20 {
        if published < 20 {
            let body = format!(
                r#"{{"jsonrpc":"2.0","method":"publish","params":["n{published}"],"id":1}}"#
            );
            let reply = post(&publisher, &url, &body).await;
            assert_eq!(
                reply.json()["result"],
                1,
                "the subscriber is still attached"
            );
            published += 1;
        }
        // Read what came, as a client that keeps up does.
        for _ in 0..50 {
            let note = next(&mut ws).await;
            if note["method"] == "news" {
                assert_eq!(note["params"]["result"], format!("n{news}"));
                news += 1;
            }
        }
    }
}

#[tokio::test]
async fn a_subscription_started_by_a_message_that_times_out_is_ended_with_it() {
    let server = TestServer::start(|e| e.request_timeout(Duration::from_millis(200)), |s| s).await;
    let mut ws = open(&server, &[]).await.unwrap();
    let answer = call(
        &mut ws,
        r#"[{"jsonrpc":"2.0","method":"subscribe_news","id":1},{"jsonrpc":"2.0","method":"slow","params":[5000],"id":2}]"#,
    )
    .await;
    let items = answer.as_array().unwrap();
    assert!(
        items.iter().all(|item| item["error"]["code"] == -32000),
        "{answer}"
    );
    assert_eq!(
        server.router.state().news.subscribers(),
        0,
        "nothing was left attached"
    );
    let reply = post(
        &http1(),
        &server.url("/"),
        r#"{"jsonrpc":"2.0","method":"publish","params":["x"],"id":1}"#,
    )
    .await;
    assert_eq!(reply.json()["result"], 0);
    let answer = call(
        &mut ws,
        r#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":3}"#,
    )
    .await;
    assert_eq!(answer["result"], 5, "and no stray notification before it");
}
