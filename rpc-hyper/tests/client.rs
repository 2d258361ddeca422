//! The client against our server (HTTP/1.1 and h2c), against a server that misbehaves in
//! every way the issue names, and against a Python server we did not write.

mod common;

use std::time::Duration;

use common::*;
use rpc_hyper::Client;
use serde_json::json;
use tokio::io::AsyncWriteExt;

fn clients(server: &TestServer) -> Vec<Client> {
    let url = server.url("/");
    #[cfg_attr(not(feature = "http2"), allow(unused_mut))]
    let mut clients = vec![Client::builder(&url).build().unwrap()];
    #[cfg(feature = "http2")]
    clients.push(
        Client::builder(&url)
            .http2_prior_knowledge()
            .build()
            .unwrap(),
    );
    clients
}

#[tokio::test]
async fn calls_by_position_by_name_and_by_stub() {
    let server = TestServer::default().await;
    for client in clients(&server) {
        let sum: i64 = client.request("add", (2, 3)).await.unwrap();
        assert_eq!(sum, 5);
        let sum: i64 = client
            .request("add", json!({"a": 2, "b": 3}))
            .await
            .unwrap();
        assert_eq!(sum, 5);
        #[derive(serde::Serialize)]
        struct Ab {
            a: i64,
            b: i64,
        }
        let sum: i64 = client.request("add", Ab { a: 4, b: 5 }).await.unwrap();
        assert_eq!(sum, 9);
        assert_eq!(client.call(common::add::call(20, 22)).await.unwrap(), 42);
        // A borrowed result type (`&'static str`) decodes as its owned form.
        let done: String = client.call(common::slow::call(1)).await.unwrap();
        assert_eq!(done, "done");
    }
}

#[tokio::test]
async fn errors_say_what_went_wrong() {
    let server = TestServer::default().await;
    let client = Client::builder(&server.url("/")).build().unwrap();
    let overflow = client
        .call(common::add::call(i64::MAX, 1))
        .await
        .unwrap_err();
    let error = overflow.rpc().expect("the server's error object");
    assert_eq!((error.code(), error.message()), (-32602, "Invalid params"));
    assert_eq!(
        error.data_as::<String>().unwrap().unwrap(),
        "integer overflow"
    );
    assert_eq!(overflow.status(), None);

    let missing = client.request::<i64>("nope", ()).await.unwrap_err();
    assert_eq!(missing.rpc().unwrap().code(), -32601);

    let wrong_type = client.request::<i64>("slow", (1,)).await.unwrap_err();
    assert!(wrong_type.is_decode(), "{wrong_type}");
    assert!(
        wrong_type.to_string().contains("invalid type"),
        "{wrong_type}"
    );

    let quick = client.with_timeout(Duration::from_millis(50));
    let late = quick.request::<String>("slow", (2_000,)).await.unwrap_err();
    assert!(late.is_timeout(), "{late}");

    let small = Client::builder(&server.url("/"))
        .max_response_size(1_000)
        .build()
        .unwrap();
    let big = small.call(common::big::call(10_000)).await.unwrap_err();
    assert!(big.is_too_large(), "{big}");

    let nowhere = Client::builder("http://127.0.0.1:1/").build().unwrap();
    let refused = nowhere.request::<i64>("add", (1, 2)).await.unwrap_err();
    assert!(refused.is_transport(), "{refused}");

    // The same client goes on.
    assert_eq!(client.call(common::add::call(1, 1)).await.unwrap(), 2);
    // https:// is the `tls` feature's.
    let secure = Client::builder("https://example.com/").build();
    assert_eq!(secure.is_ok(), cfg!(feature = "tls"), "{:?}", secure.err());
    assert!(Client::builder("ftp://example.com/").build().is_err());
}

#[tokio::test]
async fn notifications_await_no_answer() {
    let server = TestServer::default().await;
    for client in clients(&server) {
        client.notify("add", (1, 2)).await.unwrap();
        client.notify("nope", ()).await.unwrap();
    }
}

#[tokio::test]
async fn a_batch_answers_each_call_on_its_own_in_call_order() {
    let server = TestServer::default().await;
    for client in clients(&server) {
        let mut batch = client.batch();
        let sum = batch.call(common::add::call(2, 3)).unwrap();
        let overflow = batch.call(common::add::call(i64::MAX, 1)).unwrap();
        batch.notify("add", (1, 1)).unwrap();
        let missing = batch.request::<u8>("nope", ()).unwrap();
        let wrong = batch.request::<i64>("slow", (1,)).unwrap();
        let replies = batch.send().await.unwrap();
        assert_eq!(replies.get(&sum).unwrap(), 5);
        assert_eq!(
            replies.get(&overflow).unwrap_err().rpc().unwrap().code(),
            -32602
        );
        assert_eq!(
            replies.get(&missing).unwrap_err().rpc().unwrap().code(),
            -32601
        );
        assert!(replies.get(&wrong).unwrap_err().is_decode());

        // Notifications only: nothing is answered, nothing to take.
        let mut batch = client.batch();
        batch.notify("add", (1, 1)).unwrap();
        batch.send().await.unwrap();
    }
}

/// How the misbehaving server answers.
#[derive(Clone, Copy)]
enum Answer {
    /// This status and body, with the body's true length.
    Whole(&'static str, &'static str),
    /// This status and body, with a longer length declared: the socket closes mid-answer.
    Short(&'static str, &'static str),
    /// A body of a gigabyte declared, and sent until the client stops reading.
    Endless,
    /// Nothing, ever.
    Silent,
}

/// A server that answers every request the same way.
async fn misbehaving(answer: Answer) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                if !read_request(&mut stream).await {
                    return;
                }
                let head = |status: &str, len: usize| {
                    format!("HTTP/1.1 {status}\r\ncontent-length: {len}\r\n\r\n")
                };
                match answer {
                    Answer::Whole(status, body) => {
                        let _ = stream
                            .write_all(format!("{}{body}", head(status, body.len())).as_bytes())
                            .await;
                    }
                    Answer::Short(status, body) => {
                        let _ = stream
                            .write_all(
                                format!("{}{body}", head(status, body.len() + 50)).as_bytes(),
                            )
                            .await;
                    }
                    Answer::Endless => {
                        let _ = stream.write_all(head("200 OK", 1 << 30).as_bytes()).await;
                        let chunk = vec![b'['; 64 * 1024];
                        while stream.write_all(&chunk).await.is_ok() {}
                    }
                    Answer::Silent => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    (url, task)
}

type Check = fn(&rpc_hyper::client::Error) -> bool;

#[tokio::test]
async fn a_misbehaving_server_gets_the_documented_error_every_time() {
    let good = TestServer::default().await;
    let client = Client::builder(&good.url("/")).build().unwrap();
    let cases: [(Answer, Check); 10] = [
        (Answer::Whole("200 OK", "not json!"), |e| e.is_protocol()),
        (Answer::Whole("200 OK", r#"{"jsonrpc":"2.0","r"#), |e| {
            e.is_protocol()
        }),
        (
            Answer::Whole("200 OK", r#"{"jsonrpc":"2.0","result":1,"id":99}"#),
            |e| e.is_protocol(),
        ),
        (
            Answer::Whole("200 OK", r#"{"jsonrpc":"1.0","result":1,"id":1}"#),
            |e| e.is_protocol(),
        ),
        (
            Answer::Whole("200 OK", r#"[{"jsonrpc":"2.0","result":1,"id":1}]"#),
            |e| e.is_protocol(),
        ),
        (Answer::Whole("200 OK", ""), |e| e.is_protocol()),
        (
            Answer::Whole(
                "500 Internal Server Error",
                r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"overloaded"},"id":null}"#,
            ),
            |e| {
                e.rpc().is_some_and(|o| o.code() == -32000)
                    && e.status().map(|s| s.as_u16()) == Some(500)
            },
        ),
        (Answer::Whole("503 Service Unavailable", "busy"), |e| {
            e.status().map(|s| s.as_u16()) == Some(503) && e.rpc().is_none()
        }),
        (Answer::Short("200 OK", r#"{"jsonrpc":"2.0","#), |e| {
            e.is_transport()
        }),
        (Answer::Silent, |e| e.is_timeout()),
    ];
    for (answer, expected) in cases {
        let (url, server) = misbehaving(answer).await;
        let bad = Client::builder(&url)
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let err = bad.request::<i64>("add", (1, 2)).await.unwrap_err();
        assert!(expected(&err), "{err:?}");
        // Neither this client nor another is the worse for it.
        let err_again = bad.request::<i64>("add", (1, 2)).await.unwrap_err();
        assert!(expected(&err_again), "{err_again:?}");
        assert_eq!(client.request::<i64>("add", (1, 2)).await.unwrap(), 3);
        server.abort();
    }
}

#[tokio::test]
async fn a_huge_answer_is_refused_without_being_read_whole() {
    let (url, server) = misbehaving(Answer::Endless).await;
    let client = Client::builder(&url)
        .max_response_size(1 << 20)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let err = client.request::<i64>("add", (1, 2)).await.unwrap_err();
    assert!(err.is_too_large(), "{err}");
    server.abort();
}

#[tokio::test]
async fn batch_answers_with_wrong_and_duplicate_ids_fail_only_their_entries() {
    // The client's first ids are 1, 2 and 3: 1 answered twice, 2 well, 3 not at all; 7 is
    // no one's, and junk is skipped.
    let (url, server) = misbehaving(Answer::Whole(
        "200 OK",
        r#"[{"jsonrpc":"2.0","result":1,"id":1},{"jsonrpc":"2.0","result":2,"id":1},{"jsonrpc":"2.0","result":5,"id":2},{"jsonrpc":"2.0","result":7,"id":7},"junk",{"id":3}]"#,
    ))
    .await;
    let client = Client::builder(&url).build().unwrap();
    let mut batch = client.batch();
    let twice = batch.request::<i64>("add", (0, 1)).unwrap();
    let well = batch.request::<i64>("add", (2, 3)).unwrap();
    let never = batch.request::<i64>("add", (1, 1)).unwrap();
    let replies = batch.send().await.unwrap();
    assert!(replies.get(&twice).unwrap_err().is_protocol());
    assert_eq!(replies.get(&well).unwrap(), 5);
    assert!(replies.get(&never).unwrap_err().is_protocol());
    server.abort();
}

/// Over h2c, a server that misbehaves in each way gets the same documented errors as over
/// HTTP/1.1, on one multiplexed connection that stays usable.
#[cfg(feature = "http2")]
#[tokio::test]
async fn a_misbehaving_h2c_server_gets_the_documented_error_every_time() {
    use http_body_util::{BodyExt, StreamBody};
    use hyper::body::Frame;

    type Body = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;
    /// The answer to a request whose path names the case.
    fn answer(case: &str) -> hyper::Response<Body> {
        let whole = |status: u16, body: &'static str| {
            let body = http_body_util::Full::new(bytes::Bytes::from_static(body.as_bytes()));
            let mut response = hyper::Response::new(body.map_err(|never| match never {}).boxed());
            *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
            response
        };
        match case {
            "/garbage" => whole(200, "not json!"),
            "/wrong-id" => whole(200, r#"{"jsonrpc":"2.0","result":1,"id":99}"#),
            "/empty" => whole(200, ""),
            "/error-500" => whole(
                500,
                r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"overloaded"},"id":null}"#,
            ),
            "/busy" => whole(503, "busy"),
            "/huge" => {
                let chunks = futures_util::stream::iter(
                    (0..64).map(|_| Ok(Frame::data(bytes::Bytes::from(vec![b'['; 64 * 1024])))),
                );
                hyper::Response::new(StreamBody::new(chunks).boxed())
            }
            _ => {
                // Part of an answer, then the stream is reset.
                let chunks = futures_util::stream::iter([
                    Ok(Frame::data(bytes::Bytes::from_static(b"{\"jsonrpc\":"))),
                    Err(std::io::Error::other("reset")),
                ]);
                hyper::Response::new(StreamBody::new(chunks).boxed())
            }
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(stream),
                        hyper::service::service_fn(|request: hyper::Request<_>| async move {
                            if request.uri().path() == "/silent" {
                                tokio::time::sleep(Duration::from_secs(30)).await;
                            }
                            Ok::<_, std::convert::Infallible>(answer(request.uri().path()))
                        }),
                    ),
            );
        }
    });
    let cases: [(&str, Check); 8] = [
        ("/garbage", |e| e.is_protocol()),
        ("/wrong-id", |e| e.is_protocol()),
        ("/empty", |e| e.is_protocol()),
        ("/error-500", |e| {
            e.rpc().is_some_and(|o| o.code() == -32000)
                && e.status().map(|s| s.as_u16()) == Some(500)
        }),
        ("/busy", |e| {
            e.status().map(|s| s.as_u16()) == Some(503) && e.rpc().is_none()
        }),
        ("/huge", |e| e.is_too_large()),
        ("/reset", |e| e.is_transport()),
        ("/silent", |e| e.is_timeout()),
    ];
    for (path, expected) in cases {
        let client = Client::builder(&format!("http://{addr}{path}"))
            .http2_prior_knowledge()
            .max_response_size(1 << 20)
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        for _ in 0..2 {
            let err = client.request::<i64>("add", (1, 2)).await.unwrap_err();
            assert!(expected(&err), "{path}: {err:?}");
        }
    }
    server.abort();
}

#[cfg(feature = "ws")]
mod websocket {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    fn ws_url(server: &TestServer) -> String {
        format!("ws://{}/", server.addr)
    }

    #[tokio::test]
    async fn calls_batches_and_notifications_over_one_connection() {
        let server = TestServer::default().await;
        let client = Client::builder(&ws_url(&server)).build().unwrap();
        assert_eq!(client.call(common::add::call(2, 3)).await.unwrap(), 5);
        assert_eq!(
            client
                .request::<i64>("add", json!({"a": 1, "b": 1}))
                .await
                .unwrap(),
            2
        );
        client.notify("add", (1, 2)).await.unwrap();
        let err = client.request::<i64>("nope", ()).await.unwrap_err();
        assert_eq!(err.rpc().unwrap().code(), -32601);
        let mut batch = client.batch();
        let sum = batch.call(common::add::call(2, 3)).unwrap();
        let overflow = batch.call(common::add::call(i64::MAX, 1)).unwrap();
        let replies = batch.send().await.unwrap();
        assert_eq!(replies.get(&sum).unwrap(), 5);
        assert_eq!(
            replies.get(&overflow).unwrap_err().rpc().unwrap().code(),
            -32602
        );

        // Many in flight at once, answered out of order, each to its caller.
        let calls = (0..200).map(|n| {
            let client = client.clone();
            async move {
                if n % 10 == 0 {
                    let done: String = client.call(common::slow::call(20)).await.unwrap();
                    assert_eq!(done, "done");
                } else {
                    assert_eq!(client.call(common::add::call(n, n)).await.unwrap(), 2 * n);
                }
            }
        });
        futures_util::future::join_all(calls).await;
        assert_eq!(
            *client.connections().borrow(),
            1,
            "one connection carried them all"
        );
    }

    #[tokio::test]
    async fn at_most_max_in_flight_calls_are_on_the_connection_at_once() {
        let server = TestServer::default().await;
        let client = Client::builder(&ws_url(&server))
            .max_in_flight(2)
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let calls = (0..4).map(|_| {
            let client = client.clone();
            async move { client.call(common::slow::call(200)).await.unwrap() }
        });
        futures_util::future::join_all(calls).await;
        // Two at a time: two rounds of 200 ms, never one.
        assert!(
            started.elapsed() >= Duration::from_millis(390),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_subscription_is_a_stream_and_dropping_it_unsubscribes() {
        let server = TestServer::default().await;
        let client = Client::builder(&ws_url(&server)).build().unwrap();
        let mut countdown = client
            .subscribe(common::countdown::subscribe(3, 0))
            .await
            .unwrap();
        assert!(countdown.id().starts_with("\"0x"));
        for n in (0..=3).rev() {
            assert_eq!(countdown.next().await.unwrap().unwrap(), n);
        }
        let news = client.subscribe(common::news::subscribe()).await.unwrap();
        assert_eq!(server.router.state().news.subscribers(), 1);
        let mut news = news.take(2);
        let http = Client::builder(&server.url("/")).build().unwrap();
        assert_eq!(
            http.call(common::publish::call("a".into())).await.unwrap(),
            1
        );
        assert_eq!(
            http.call(common::publish::call("b".into())).await.unwrap(),
            1
        );
        assert_eq!(news.next().await.unwrap().unwrap(), "a");
        assert_eq!(news.next().await.unwrap().unwrap(), "b");
        drop(news);
        let deadline = tokio::time::Instant::now() + STEP;
        while server.router.state().news.subscribers() != 0 {
            assert!(tokio::time::Instant::now() < deadline, "not unsubscribed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Over HTTP there is nothing to subscribe with.
        assert!(http.subscribe(common::news::subscribe()).await.is_err());
    }

    #[tokio::test]
    async fn a_lost_connection_fails_what_was_in_flight_ends_subscriptions_and_reconnects() {
        let server = TestServer::default().await;
        let addr = server.addr;
        let client = Client::builder(&ws_url(&server)).build().unwrap();
        let mut connections = client.connections();
        let mut news = client.subscribe(common::news::subscribe()).await.unwrap();
        let slow = tokio::spawn({
            let client = client.clone();
            async move { client.call(common::slow::call(300)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        server.stop().await.unwrap();
        // A graceful shutdown answers the call in flight before it closes (a connection cut
        // mid-call fails it: see the misbehaving server's test); the subscription ends with
        // an error item, then ends.
        let done = tokio::time::timeout(STEP, slow)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(done, "done");
        let item = tokio::time::timeout(STEP, news.next())
            .await
            .unwrap()
            .unwrap();
        assert!(item.unwrap_err().is_closed());
        assert!(news.next().await.is_none());
        // A server comes back on the same address: the client reconnects by itself.
        let again = TestServer::at(addr).await;
        tokio::time::timeout(STEP, async {
            while *connections.borrow_and_update() < 2 {
                connections.changed().await.unwrap();
            }
        })
        .await
        .expect("reconnected");
        assert_eq!(client.call(common::add::call(2, 3)).await.unwrap(), 5);
        let mut news = client.subscribe(common::news::subscribe()).await.unwrap();
        assert_eq!(again.router.state().news.subscribers(), 1);
        let http = Client::builder(&again.url("/")).build().unwrap();
        http.call(common::publish::call("back".into()))
            .await
            .unwrap();
        assert_eq!(news.next().await.unwrap().unwrap(), "back");
    }

    /// A WebSocket server that answers each text frame with `answer(frame)`'s frames, and
    /// closes after `close_after` frames (if set).
    async fn misbehaving(
        answer: fn(&str) -> Vec<String>,
        close_after: Option<usize>,
    ) -> (String, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                        return;
                    };
                    let mut seen = 0;
                    while let Some(Ok(Message::Text(text))) = ws.next().await {
                        seen += 1;
                        if close_after.is_some_and(|n| seen >= n) {
                            return; // gone, without a close frame
                        }
                        for frame in answer(&text) {
                            if futures_util::SinkExt::send(&mut ws, Message::text(frame))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (url, task)
    }

    /// The request's id, as text.
    fn id_of(request: &str) -> String {
        let value: serde_json::Value = serde_json::from_str(request).unwrap();
        value["id"].to_string()
    }

    #[tokio::test]
    async fn a_misbehaving_websocket_server_gets_the_documented_error_every_time() {
        type Check = fn(&rpc_hyper::client::Error) -> bool;
        type Answers = fn(&str) -> Vec<String>;
        let cases: [(Answers, Check); 5] = [
            // Garbage, then nothing: the call times out, the garbage is dropped.
            (|_| vec!["garbage".into()], |e| e.is_timeout()),
            // An answer for another id only: dropped; the call times out.
            (
                |_| vec![r#"{"jsonrpc":"2.0","result":1,"id":999}"#.into()],
                |e| e.is_timeout(),
            ),
            // A notification for no subscription, then the right answer: the call succeeds.
            (
                |r| {
                    vec![
                    r#"{"jsonrpc":"2.0","method":"x","params":{"subscription":"0x1","result":1}}"#.into(),
                    format!(r#"{{"jsonrpc":"2.0","result":3,"id":{}}}"#, id_of(r)),
                ]
                },
                |_| false,
            ),
            // Two answers for the id: the first is taken, the second dropped.
            (
                |r| {
                    vec![
                        format!(r#"{{"jsonrpc":"2.0","result":3,"id":{}}}"#, id_of(r)),
                        format!(r#"{{"jsonrpc":"2.0","result":4,"id":{}}}"#, id_of(r)),
                    ]
                },
                |_| false,
            ),
            // A wrong protocol version for our id.
            (
                |r| {
                    vec![format!(
                        r#"{{"jsonrpc":"1.0","result":3,"id":{}}}"#,
                        id_of(r)
                    )]
                },
                |e| e.is_protocol(),
            ),
        ];
        for (answer, expected) in cases {
            let (url, server) = misbehaving(answer, None).await;
            let client = Client::builder(&url)
                .timeout(Duration::from_millis(300))
                .build()
                .unwrap();
            for _ in 0..2 {
                match client.request::<i64>("add", (1, 2)).await {
                    Ok(sum) => assert_eq!(sum, 3),
                    Err(err) => assert!(expected(&err), "{err:?}"),
                }
            }
            server.abort();
        }
    }

    #[tokio::test]
    async fn a_close_mid_batch_fails_the_batch_and_the_client_goes_on() {
        let (url, server) = misbehaving(
            |r| {
                vec![format!(
                    r#"{{"jsonrpc":"2.0","result":3,"id":{}}}"#,
                    id_of(r)
                )]
            },
            Some(2),
        )
        .await;
        let client = Client::builder(&url)
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        assert_eq!(client.request::<i64>("add", (1, 2)).await.unwrap(), 3);
        let mut batch = client.batch();
        let _a = batch.request::<i64>("add", (1, 2)).unwrap();
        let _b = batch.request::<i64>("add", (1, 2)).unwrap();
        let err = batch.send().await.unwrap_err();
        assert!(err.is_closed(), "{err}");
        // Reconnected, it is served again (the server closes every second frame).
        let sum = tokio::time::timeout(STEP, async {
            loop {
                if let Ok(sum) = client.request::<i64>("add", (1, 2)).await {
                    return sum;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap();
        assert_eq!(sum, 3);
        server.abort();
    }

    /// The method a request calls.
    fn method_of(request: &str) -> String {
        let value: serde_json::Value = serde_json::from_str(request).unwrap();
        value["method"].as_str().unwrap_or_default().to_owned()
    }

    fn subscription() -> rpc_core::TypedSubscription<(), i64> {
        rpc_core::TypedSubscription::new("sub", "unsub", "note", ())
    }

    #[tokio::test]
    async fn websocket_batches_and_null_ids_reach_the_right_caller() {
        // `slow` is never answered. A batch's answer carries the waiting `slow` call's id
        // (1) beside its own: it is still the batch's. A lone `bad` call, or a lone batch
        // of `bad` calls, is answered with a null-id error: the only caller waiting gets it.
        let (url, server) = misbehaving(
            |r| {
                let invalid = r#"{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}"#;
                if r.starts_with('[') {
                    let calls: Vec<serde_json::Value> = serde_json::from_str(r).unwrap();
                    if calls[0]["method"] == "bad" {
                        return vec![invalid.into()];
                    }
                    let mut answers = vec![json!({"jsonrpc":"2.0","result":0,"id":1})];
                    answers.extend(
                        calls
                            .iter()
                            .map(|c| json!({"jsonrpc":"2.0","result":3,"id":c["id"]})),
                    );
                    return vec![serde_json::to_string(&answers).unwrap()];
                }
                match method_of(r).as_str() {
                    "bad" => vec![invalid.into()],
                    _ => vec![],
                }
            },
            None,
        )
        .await;
        let client = Client::builder(&url)
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let slow = tokio::spawn({
            let client = client.clone();
            async move { client.request::<i64>("slow", ()).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut batch = client.batch();
        let a = batch.request::<i64>("add", (1, 2)).unwrap();
        let b = batch.request::<i64>("add", (1, 2)).unwrap();
        let replies = batch.send().await.unwrap();
        assert_eq!((replies.get(&a).unwrap(), replies.get(&b).unwrap()), (3, 3));
        slow.abort();
        let _ = slow.await;
        // Alone now: the null-id error answers at once, not at the time limit.
        let started = std::time::Instant::now();
        let err = client.request::<i64>("bad", ()).await.unwrap_err();
        assert_eq!(err.rpc().map(|e| e.code()), Some(-32600), "{err:?}");
        let mut batch = client.batch();
        let c = batch.request::<i64>("bad", ()).unwrap();
        let replies = batch.send().await.unwrap();
        assert_eq!(replies.get(&c).unwrap_err().rpc().unwrap().code(), -32600);
        assert!(started.elapsed() < Duration::from_secs(2));
        server.abort();
    }

    #[tokio::test]
    async fn a_subscription_left_unread_ends_with_an_error_item_after_its_items() {
        // 1,024 items fill the client's buffer exactly; then the connection goes. The error
        // item still comes, after all of them. With 1,100 the subscription falls behind.
        for (items, closed) in [(1_024, true), (1_100, false)] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("ws://{}/", listener.local_addr().unwrap());
            let server = tokio::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
                let Some(Ok(Message::Text(request))) = ws.next().await else {
                    return;
                };
                let answer = format!(
                    r#"{{"jsonrpc":"2.0","result":"0x1","id":{}}}"#,
                    id_of(&request)
                );
                let mut frames = vec![answer];
                frames.extend((0..items).map(|n| {
                    format!(r#"{{"jsonrpc":"2.0","method":"note","params":{{"subscription":"0x1","result":{n}}}}}"#)
                }));
                for frame in frames {
                    futures_util::SinkExt::send(&mut ws, Message::text(frame))
                        .await
                        .unwrap();
                }
                if !closed {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            });
            let client = Client::builder(&url).build().unwrap();
            let mut sub = client.subscribe(subscription()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            for n in 0..1_024 {
                let item = tokio::time::timeout(STEP, sub.next()).await.unwrap();
                assert_eq!(item.unwrap().unwrap(), n);
            }
            let end = tokio::time::timeout(STEP, sub.next()).await.unwrap();
            let err = end.unwrap().unwrap_err();
            assert_eq!(
                (err.is_closed(), err.is_protocol()),
                (closed, !closed),
                "{err}"
            );
            assert!(sub.next().await.is_none());
            server.abort();
        }
    }

    #[tokio::test]
    async fn a_subscription_id_given_again_after_a_reconnection_is_the_new_ones() {
        // Every subscription is "0x1"; `poke` is answered, then "0x1" gets an item; the third
        // frame on a connection closes it. Unsubscribe frames are counted.
        static UNSUBSCRIBED: AtomicUsize = AtomicUsize::new(0);
        let (url, server) = misbehaving(
            |r| {
                let answer = |result: &str| {
                    format!(r#"{{"jsonrpc":"2.0","result":{result},"id":{}}}"#, id_of(r))
                };
                if method_of(r) == "unsub" {
                    UNSUBSCRIBED.fetch_add(1, Ordering::SeqCst);
                }
                match method_of(r).as_str() {
                    "sub" => vec![answer(r#""0x1""#)],
                    "poke" => vec![
                        answer("true"),
                        r#"{"jsonrpc":"2.0","method":"note","params":{"subscription":"0x1","result":7}}"#.into(),
                    ],
                    _ => vec![],
                }
            },
            Some(3),
        )
        .await;
        let client = Client::builder(&url)
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let mut connections = client.connections();
        let mut first = client.subscribe(subscription()).await.unwrap();
        assert!(client.request::<bool>("poke", ()).await.unwrap());
        assert_eq!(first.next().await.unwrap().unwrap(), 7);
        let _ = client.request::<bool>("bye", ()).await;
        tokio::time::timeout(STEP, async {
            while *connections.borrow_and_update() < 2 {
                connections.changed().await.unwrap();
            }
        })
        .await
        .expect("reconnected");
        let mut second = client.subscribe(subscription()).await.unwrap();
        // The first, dropped unread, neither unroutes the second nor unsubscribes it.
        drop(first);
        assert!(client.request::<bool>("poke", ()).await.unwrap());
        let item = tokio::time::timeout(STEP, second.next()).await.unwrap();
        assert_eq!(item.unwrap().unwrap(), 7);
        assert_eq!(UNSUBSCRIBED.load(Ordering::SeqCst), 0);
        server.abort();
    }
}

/// Records each span's name and fields, in order.
#[derive(Clone, Default)]
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push_str(&format!(" {}={value}", field.name()));
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut line = span.metadata().name().to_owned();
        span.record(&mut Fields(&mut line));
        let mut seen = self.0.lock().unwrap();
        seen.push(line);
        tracing::span::Id::from_u64(seen.len() as u64)
    }
    fn record(&self, id: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut seen = self.0.lock().unwrap();
        if let Some(line) = seen.get_mut(id.into_u64() as usize - 1) {
            values.record(&mut Fields(line));
        }
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn each_call_runs_in_a_span_with_its_method_id_duration_and_outcome() {
    let server = TestServer::default().await;
    let recorder = Recorder::default();
    let client = Client::builder(&server.url("/")).build().unwrap();
    {
        let _guard = tracing::subscriber::set_default(recorder.clone());
        assert_eq!(client.call(common::add::call(2, 3)).await.unwrap(), 5);
        client.request::<i64>("nope", ()).await.unwrap_err();
    }
    let spans: Vec<String> = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.starts_with("rpc_client_call"))
        .cloned()
        .collect();
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert!(
        spans[0].contains("method=add") && spans[0].contains("id=1"),
        "{}",
        spans[0]
    );
    assert!(
        spans[0].contains("micros=") && spans[0].contains("outcome=ok"),
        "{}",
        spans[0]
    );
    assert!(
        spans[1].contains("method=nope") && spans[1].contains("Method not found"),
        "{}",
        spans[1]
    );
}

#[tokio::test]
async fn headers_go_with_every_request_and_an_empty_200_answers_a_notification() {
    let server = TestServer::default().await;
    let client = Client::builder(&server.url("/"))
        .header("x-request-id", "abc-123")
        .build()
        .unwrap();
    for _ in 0..2 {
        let seen: serde_json::Value = client.request("context", ()).await.unwrap();
        assert_eq!(seen["request_id"], "abc-123");
    }
    assert!(Client::builder("http://127.0.0.1:1/")
        .header("bad header", "x")
        .build()
        .is_err());

    let (url, quiet) = misbehaving(Answer::Whole("200 OK", "")).await;
    Client::builder(&url)
        .build()
        .unwrap()
        .notify("add", (1, 2))
        .await
        .unwrap();
    quiet.abort();
    let (url, refusing) = misbehaving(Answer::Whole(
        "200 OK",
        r#"{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}"#,
    ))
    .await;
    let err = Client::builder(&url)
        .build()
        .unwrap()
        .notify("add", (1, 2))
        .await
        .unwrap_err();
    assert_eq!(err.rpc().unwrap().code(), -32600);
    refusing.abort();
}

#[tokio::test]
async fn a_kept_connection_the_server_closed_meanwhile_is_replaced_unseen() {
    let server =
        TestServer::start(|e| e, |s| s.keep_alive_timeout(Duration::from_millis(100))).await;
    let client = Client::builder(&server.url("/")).build().unwrap();
    for _ in 0..3 {
        assert_eq!(client.call(common::add::call(2, 3)).await.unwrap(), 5);
        // Idle past the server's keep-alive timeout: it closes the connection.
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn over_a_websocket_headers_go_with_the_upgrade_and_a_client_gives_up_in_the_end() {
    let server = TestServer::default().await;
    let client = Client::builder(&format!("ws://{}/", server.addr))
        .header("x-request-id", "ws-1")
        .build()
        .unwrap();
    let seen: serde_json::Value = client.request("context", ()).await.unwrap();
    assert_eq!(seen["request_id"], "ws-1");

    let nowhere = Client::builder("ws://127.0.0.1:1/")
        .max_reconnects(1)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let err = nowhere.request::<i64>("add", (1, 2)).await.unwrap_err();
    assert!(err.is_closed(), "{err}");
    let err = nowhere.request::<i64>("add", (1, 2)).await.unwrap_err();
    assert!(err.is_closed(), "{err}: calls after giving up fail at once");
}

#[tokio::test]
async fn a_body_over_the_servers_limit_gets_its_413() {
    let server = TestServer::start(|e| e.max_body_size(64 * 1024), |s| s).await;
    for client in clients(&server) {
        for size in [100 * 1024, 8 << 20] {
            let big = "x".repeat(size);
            let err = client.request::<i64>("echo", (big,)).await.unwrap_err();
            assert_eq!(
                err.status().map(|s| s.as_u16()),
                Some(413),
                "{size}: {err:?}"
            );
            // The client goes on.
            assert_eq!(client.call(common::add::call(2, 3)).await.unwrap(), 5);
        }
    }
}
