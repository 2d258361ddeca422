//! A method asks its caller: the answers reach it whatever the bounds; time limits, closes,
//! error answers, malformed and stray ones.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::{report, router, start};

#[tokio::test]
async fn a_method_asks_its_caller_and_answers_with_what_it_said() {
    let (mut other, server, _) = start(|s| s);
    other
        .send(r#"{"jsonrpc":"2.0","method":"ask","params":[21],"id":1}"#)
        .await;
    // The server's request: its own id space, starting at 1 like the caller's, and apart.
    let request = other.next().await.expect("a request");
    assert_eq!(
        request,
        json!({"jsonrpc":"2.0","method":"double","params":[21],"id":1})
    );
    other.answer_double(&request).await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":42,"id":1}))
    );
    // A notification to the caller goes before the answer of the call that sent it.
    other
        .send(r#"{"jsonrpc":"2.0","method":"tell","id":"t"}"#)
        .await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","method":"told","params":{"what":"news"}}))
    );
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":true,"id":"t"}))
    );
    other.close().await;
    assert_eq!(other.next().await, None);
    server.await.expect("joins").expect("ends cleanly");
}

#[tokio::test]
async fn with_one_call_in_flight_a_hundred_calls_that_ask_back_all_finish() {
    // Every call's place is taken by a call that awaits the caller, and the caller sends all
    // its calls before it answers anything: the answers come behind 99 calls.
    let (mut other, server, _) = start(|s| s.max_calls_in_flight(1));
    let calls: String = (0..100)
        .map(|n| format!(r#"{{"jsonrpc":"2.0","method":"ask","params":[{n}],"id":{n}}}"#) + "\n")
        .collect();
    other.send(calls.trim_end()).await;
    let mut answers = HashMap::new();
    while answers.len() < 100 {
        let message = other.next().await.expect("a message");
        if message.get("method").is_some() {
            other.answer_double(&message).await;
        } else {
            let id = message["id"].as_i64().expect("our id");
            assert_eq!(message["result"], json!(id * 2), "{message}");
            answers.insert(id, message);
        }
    }
    other.close().await;
    assert_eq!(other.next().await, None);
    server.await.expect("joins").expect("ends cleanly");
}

#[tokio::test]
async fn answers_out_of_order_reach_their_own_requests() {
    let (mut other, _server, _) = start(|s| s);
    other
        .send(r#"{"jsonrpc":"2.0","method":"ask","params":[1],"id":"a"}"#)
        .await;
    other
        .send(r#"{"jsonrpc":"2.0","method":"ask","params":[2],"id":"b"}"#)
        .await;
    let first = other.next().await.expect("a request");
    let second = other.next().await.expect("a request");
    assert_ne!(first["id"], second["id"]);
    other.answer_double(&second).await;
    other.answer_double(&first).await;
    let mut answers = vec![
        other.next().await.expect("an answer"),
        other.next().await.expect("an answer"),
    ];
    answers.sort_by_key(|answer| answer["id"].as_str().map(str::to_owned));
    assert_eq!(
        answers,
        [
            json!({"jsonrpc":"2.0","result":2,"id":"a"}),
            json!({"jsonrpc":"2.0","result":4,"id":"b"})
        ]
    );
}

#[tokio::test]
async fn a_caller_that_never_answers_meets_the_time_limit_and_a_late_answer_is_dropped() {
    let (mut other, _server, mut reports) =
        start(|s| s.peer_request_timeout(Duration::from_millis(200)));
    other
        .send(r#"{"jsonrpc":"2.0","method":"probe","params":[5],"id":1}"#)
        .await;
    let request = other.next().await.expect("a request");
    assert_eq!(report(&mut reports).await, "timed out 200");
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":"done","id":1}))
    );
    // The late answer goes nowhere, and answers nothing; the connection goes on.
    other.answer_double(&request).await;
    other
        .send(r#"{"jsonrpc":"2.0","method":"ask","params":[4],"id":2}"#)
        .await;
    let request = other.next().await.expect("a new request");
    assert_eq!(request["id"], 2, "ids are not reused");
    other.answer_double(&request).await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":8,"id":2}))
    );
}

#[tokio::test]
async fn a_caller_that_closes_fails_what_it_was_asked_at_once() {
    let (mut other, server, mut reports) = start(|s| s.peer_request_timeout(None));
    other
        .send(r#"{"jsonrpc":"2.0","method":"probe","params":[5],"id":1}"#)
        .await;
    other.next().await.expect("a request");
    // The caller closes its side: nothing it was asked can be answered any more.
    other.close().await;
    assert_eq!(report(&mut reports).await, "Closed");
    // Its call is answered all the same, then the stream ends.
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":"done","id":1}))
    );
    assert_eq!(other.next().await, None);
    server.await.expect("joins").expect("ends cleanly");
}

#[tokio::test]
async fn error_answers_malformed_answers_and_stray_answers() {
    let (mut other, _server, mut reports) = start(|s| s);
    // An error answer: code, message and data kept.
    other
        .send(r#"{"jsonrpc":"2.0","method":"probe","params":[1],"id":1}"#)
        .await;
    let request = other.next().await.expect("a request");
    let error = json!({"jsonrpc":"2.0","error":{"code":-32001,"message":"no","data":[1,{"x":2}]},"id":request["id"]});
    other.send(&error.to_string()).await;
    assert_eq!(
        report(&mut reports).await,
        r#"answered -32001 no [1,{"x":2}]"#
    );
    assert_eq!(other.next().await.expect("done")["result"], "done");

    // Both result and error, or neither: an error for that request.
    for (n, answer) in [
        r#"{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"m"},"id":ID}"#,
        r#"{"jsonrpc":"2.0","id":ID}"#,
    ]
    .into_iter()
    .enumerate()
    {
        other
            .send(&format!(
                r#"{{"jsonrpc":"2.0","method":"probe","params":[1],"id":{n}}}"#
            ))
            .await;
        let request = other.next().await.expect("a request");
        other
            .send(&answer.replace("ID", &request["id"].to_string()))
            .await;
        assert!(
            report(&mut reports).await.starts_with("Malformed"),
            "{answer}"
        );
        assert_eq!(other.next().await.expect("done")["result"], "done");
    }

    // Answers to nothing (unknown ids, a string id, a null id) are dropped, unanswered: the
    // next message is the answer of the next call.
    for stray in [
        r#"{"jsonrpc":"2.0","result":1,"id":999}"#,
        r#"{"jsonrpc":"2.0","result":1,"id":"1"}"#,
        r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}"#,
        r#"[{"jsonrpc":"2.0","result":1,"id":998},{"jsonrpc":"2.0","result":2,"id":997}]"#,
    ] {
        other.send(stray).await;
    }
    other
        .send(r#"{"jsonrpc":"2.0","method":"ask","params":[3],"id":"last"}"#)
        .await;
    let request = other.next().await.expect("a request");
    other.answer_double(&request).await;
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":6,"id":"last"}))
    );
}

#[tokio::test]
async fn over_plain_http_a_method_that_calls_back_is_an_error_at_the_call() {
    let (router, _) = router();
    let answer = router
        .handle(br#"{"jsonrpc":"2.0","method":"ask","params":[1],"id":1}"#)
        .await
        .expect("an answer");
    let answer: Value = serde_json::from_slice(&answer).expect("JSON");
    assert_eq!(answer["error"]["code"], -32011, "{answer}");
    assert_eq!(answer["error"]["message"], "Needs a connection");
}

#[tokio::test]
async fn requests_past_the_bound_wait_for_room_and_all_are_answered() {
    // Five requests at once from one call, two at most in flight: the other side sees two,
    // answers them, sees the next ones, and the call gets all five.
    let (mut other, _server, _) = start(|s| s.max_peer_requests(2));
    other
        .send(r#"{"jsonrpc":"2.0","method":"fan","params":[5],"id":"f"}"#)
        .await;
    let mut answered = 0;
    while answered < 5 {
        let first = other.next().await.expect("a request");
        let second = other.next().await.expect("a request");
        assert_eq!(first["method"], "double", "{first}");
        assert_eq!(second["method"], "double", "{second}");
        // Nothing more comes while these two await their answers.
        let more = tokio::time::timeout(Duration::from_millis(100), other.next()).await;
        assert!(more.is_err(), "a third request in flight: {more:?}");
        other.answer_double(&first).await;
        other.answer_double(&second).await;
        answered += 2;
        if answered == 4 {
            let last = other.next().await.expect("the fifth");
            other.answer_double(&last).await;
            answered += 1;
        }
    }
    assert_eq!(
        other.next().await,
        Some(json!({"jsonrpc":"2.0","result":[0,2,4,6,8],"id":"f"}))
    );
}
