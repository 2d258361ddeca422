//! The server under attack, over real loopback sockets: malformed and hostile bodies, slow and
//! vanishing clients, floods, and faulty methods. After every case the server must still
//! answer a fresh client correctly.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use rpc_core::rpc_method;
use rpc_hyper::RpcService;
use rpc_tests::{client, send, STEP};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMIT: usize = 1024 * 1024;

/// Panics.
#[rpc_method]
fn explode() -> i64 {
    panic!("internal detail: /etc/secret")
}

/// Never returns.
#[rpc_method]
async fn forever() -> i64 {
    std::future::pending::<()>().await;
    0
}

/// Returns what JSON cannot hold: a map with non-string keys.
#[rpc_method]
fn unserializable() -> BTreeMap<Vec<u8>, u8> {
    BTreeMap::from([(vec![1], 1)])
}

/// The calculator's methods plus faulty ones, with short timeouts so that slow clients are cut
/// off quickly.
async fn start() -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    start_with(Duration::from_millis(500)).await
}

/// The same with `timeout` for headers, bodies and requests. Floods need realistic ones: their
/// clients share this test's two threads with the server, and may wait their turn to write.
async fn start_with(
    timeout: Duration,
) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let mut router = rpc_examples::calculator::router();
    router
        .register(explode::method())
        .and_then(|r| r.register(forever::method()))
        .and_then(|r| r.register(unserializable::method()))
        .unwrap();
    let endpoint = RpcService::new(router)
        .max_body_size(LIMIT)
        .body_timeout(timeout)
        .request_timeout(timeout);
    let listener = rpc_hyper::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = rpc_hyper::serve(listener, endpoint)
        .header_read_timeout(timeout)
        .max_connections(2_000)
        // Past a few dozen connections, waiting ones park: the suite covers both kinds.
        .keep_buffers_up_to(32);
    (
        addr,
        tokio::spawn(std::future::IntoFuture::into_future(server)),
    )
}

async fn post(addr: SocketAddr, body: impl Into<Vec<u8>>) -> (u16, String) {
    let body = String::from_utf8_lossy(&body.into()).into_owned();
    send(&client(false), "POST", &format!("http://{addr}/"), &body).await
}

async fn post_bytes(addr: SocketAddr, body: Vec<u8>) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.ok();
    let mut reply = Vec::new();
    tokio::time::timeout(STEP, stream.read_to_end(&mut reply))
        .await
        .expect("answered")
        .ok();
    let text = String::from_utf8_lossy(&reply);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| reply[at + 4..].to_vec())
        .unwrap_or_default();
    (status, body)
}

/// The server still answers a fresh client correctly.
async fn healthy(addr: SocketAddr) {
    let (status, body) = post(
        addr,
        r#"{"jsonrpc":"2.0","method":"add","params":[40,2],"id":"ok"}"#,
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"jsonrpc":"2.0","result":42,"id":"ok"}"#)
    );
}

fn code(body: &str) -> i64 {
    let value: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    value["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error: {body}"))
}

/// A deterministic pseudo-random stream (xorshift), so failures reproduce.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_get_clear_errors() {
    let (addr, _server) = start().await;
    for body in [
        "",
        "{",
        "}",
        "[",
        "]",
        "nul",
        "tru",
        "\"",
        "{\"a\"}",
        "{\"a\":}",
        "[1,,2]",
        "[1 2]",
        "{'a':1}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"add\",}",
        "0x10",
        "NaN",
        "Infinity",
        "-",
        "1e",
        "\"\\u12\"",
        "\"\\x41\"",
        "{\"a\":1}{\"b\":2}",
        "[1]x",
        "/* comment */ 1",
        "\u{feff}{}",
    ] {
        let (status, answer) = post(addr, body).await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(code(&answer), -32700, "{body:?}: {answer}");
    }
    healthy(addr).await;

    // 100,000-deep arrays: valid JSON, no request inside; unbalanced, a parse error.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (_, answer) = post(addr, deep).await;
    assert_eq!(
        code(&serde_json::from_str::<Value>(&answer).unwrap()[0].to_string()),
        -32600
    );
    let (_, answer) = post(addr, "[".repeat(100_000)).await;
    assert_eq!(code(&answer), -32700);
    let params = format!(
        r#"{{"jsonrpc":"2.0","method":"add","params":[{}1{},2],"id":1}}"#,
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    assert_eq!(code(&post(addr, params).await.1), -32602);
    healthy(addr).await;

    // Random bytes up to the limit, and invalid UTF-8 inside a string.
    for seed in 1..=4 {
        let (status, answer) = post_bytes(addr, noise(LIMIT - 1, seed)).await;
        assert_eq!(status, 200);
        assert_eq!(code(&String::from_utf8(answer).unwrap()), -32700);
    }
    // Ten megabytes of them, to a server with the default 10 MiB limit: read whole, refused.
    let listener = rpc_hyper::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let default_addr = listener.local_addr().unwrap();
    let default_server = tokio::spawn(std::future::IntoFuture::into_future(rpc_hyper::serve(
        listener,
        rpc_examples::calculator::router(),
    )));
    let (status, answer) = post_bytes(default_addr, noise(10_000_000, 99)).await;
    assert_eq!(status, 200);
    assert_eq!(code(&String::from_utf8(answer).unwrap()), -32700);
    let (status, _) = post(
        default_addr,
        r#"{"jsonrpc":"2.0","method":"add","params":[1,1],"id":1}"#,
    )
    .await;
    assert_eq!(status, 200);
    default_server.abort();
    let mut invalid = br#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":""#.to_vec();
    invalid.extend_from_slice(b"\xc3\x28\"}");
    let (_, answer) = post_bytes(addr, invalid).await;
    assert_eq!(code(&String::from_utf8(answer).unwrap()), -32700);
    healthy(addr).await;

    // Numbers beyond i64, u64 and f64, as params and as ids.
    for params in [
        "[9223372036854775808, 1]",
        "[18446744073709551616, 1]",
        "[1e400, 1]",
        "[-1e400, 1]",
        "[1.5, 1]",
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"add","params":{params},"id":1}}"#);
        assert_eq!(code(&post(addr, body).await.1), -32602, "{params}");
    }
    let huge_id = "123456789012345678901234567890123456789";
    let (_, answer) = post(
        addr,
        format!(r#"{{"jsonrpc":"2.0","method":"add","params":[1,2],"id":{huge_id}}}"#),
    )
    .await;
    assert_eq!(
        answer,
        format!(r#"{{"jsonrpc":"2.0","result":3,"id":{huge_id}}}"#)
    );

    // Duplicate keys, in the request and in the params.
    assert_eq!(
        code(
            &post(
                addr,
                r#"{"jsonrpc":"2.0","method":"add","method":"subtract","params":[1,2],"id":1}"#
            )
            .await
            .1
        ),
        -32600
    );
    assert_eq!(
        code(
            &post(
                addr,
                r#"{"jsonrpc":"2.0","method":"add","params":{"a":1,"a":2,"b":3},"id":1}"#
            )
            .await
            .1
        ),
        -32602
    );

    // A 10,000-call batch is refused whole, with the reason.
    let calls: Vec<String> = (0..10_000)
        .map(|i| format!(r#"{{"jsonrpc":"2.0","method":"add","params":[{i},1],"id":{i}}}"#))
        .collect();
    let (status, answer) = post(addr, format!("[{}]", calls.join(","))).await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["error"]["code"], json!(-32600));
    assert_eq!(
        answer["error"]["data"],
        json!("a batch may hold at most 1000 calls; this one holds 10000")
    );
    healthy(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_at_the_limit_pass_and_over_it_are_refused_sized_or_chunked() {
    let (addr, _server) = start().await;
    let call = r#"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}"#;
    let padded = |len: usize| format!("{call}{}", " ".repeat(len - call.len()));
    assert_eq!(post(addr, padded(LIMIT)).await.0, 200);
    // Over the limit by its Content-Length: refused from the head alone, before the body.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        LIMIT + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut reply = vec![0; 64];
    let read = tokio::time::timeout(STEP, stream.read(&mut reply))
        .await
        .expect("answered")
        .unwrap();
    assert!(
        reply[..read].starts_with(b"HTTP/1.1 413 "),
        "{}",
        String::from_utf8_lossy(&reply[..read])
    );
    for (len, expected) in [(LIMIT, 200), (LIMIT + 1, 413)] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let body = padded(len);
        let head = "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        stream.write_all(head.as_bytes()).await.unwrap();
        // Refused midway, the server reads the rest before it closes: every write succeeds.
        for chunk in body.as_bytes().chunks(64 * 1024) {
            let framed = format!(
                "{:x}\r\n{}\r\n",
                chunk.len(),
                String::from_utf8_lossy(chunk)
            );
            stream.write_all(framed.as_bytes()).await.unwrap();
        }
        stream.write_all(b"0\r\n\r\n").await.unwrap();
        let mut reply = Vec::new();
        tokio::time::timeout(STEP, stream.read_to_end(&mut reply))
            .await
            .expect("answered")
            .ok();
        let status: u16 = String::from_utf8_lossy(&reply)
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(status, expected, "chunked, {len} bytes");
    }
    healthy(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_vanishing_clients_are_cut_off_and_harm_no_one() {
    let (addr, _server) = start().await;
    let closed = |mut stream: TcpStream| async move {
        let mut buf = [0u8; 512];
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await
        .is_ok()
    };
    // Stalled mid-header.
    let mut header = TcpStream::connect(addr).await.unwrap();
    header
        .write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Le")
        .await
        .unwrap();
    // Stalled mid-body.
    let mut body = TcpStream::connect(addr).await.unwrap();
    body.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"js").await.unwrap();
    healthy(addr).await;
    assert!(
        closed(header).await,
        "a client stalled mid-header kept its connection"
    );
    assert!(
        closed(body).await,
        "a client stalled mid-body kept its connection"
    );

    // Vanishing mid-request and mid-response (a large answer nobody reads).
    let calls: Vec<String> = (0..1_000)
        .map(|i| format!(r#"{{"jsonrpc":"2.0","method":"add","params":[{i},1],"id":{i}}}"#))
        .collect();
    let big = format!("[{}]", calls.join(","));
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 999\r\n\r\n{").await.unwrap();
        drop(stream);
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", big.len());
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(big.as_bytes()).await.unwrap();
        drop(stream);
    }
    healthy(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_methods_answer_their_caller_and_harm_no_one() {
    let (addr, _server) = start().await;
    let (_, answer) = post(addr, r#"{"jsonrpc":"2.0","method":"explode","id":1}"#).await;
    assert_eq!(
        answer,
        r#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}"#
    );
    assert!(!answer.contains("secret"));
    let (_, answer) = post(
        addr,
        r#"{"jsonrpc":"2.0","method":"unserializable","id":2}"#,
    )
    .await;
    assert_eq!(
        answer,
        r#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":2}"#
    );
    // A method that never returns is cut off at the time limit; its neighbours still answer.
    let (_, answer) = post(addr, r#"[{"jsonrpc":"2.0","method":"forever","id":3},{"jsonrpc":"2.0","method":"explode","id":4}]"#).await;
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        answer[0],
        json!({"jsonrpc":"2.0","error":{"code":-32000,"message":"Request timed out"},"id":3})
    );
    assert_eq!(answer[1]["id"], json!(4));
    healthy(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections_are_all_answered() {
    let (addr, _server) = start_with(Duration::from_secs(10)).await;
    let mut tasks = Vec::new();
    for i in 0..1_000u32 {
        tasks.push(tokio::spawn(async move {
            let body =
                format!(r#"{{"jsonrpc":"2.0","method":"multiply","params":[{i},2],"id":{i}}}"#);
            let (status, answer) = post_bytes(addr, body.into_bytes()).await;
            assert_eq!(
                status,
                200,
                "connection {i}: {:?}",
                String::from_utf8_lossy(&answer)
            );
            assert_eq!(
                String::from_utf8(answer).unwrap(),
                format!(r#"{{"jsonrpc":"2.0","result":{},"id":{i}}}"#, i * 2)
            );
        }));
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("in time")
            .unwrap();
    }
    healthy(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_clients_times_a_thousand_calls_nothing_lost_or_crossed() {
    let (addr, _server) = start_with(Duration::from_secs(10)).await;
    let mut tasks = Vec::new();
    for client_no in 0..32u64 {
        tasks.push(tokio::spawn(async move {
            let http = client(client_no % 4 == 3);
            let url = format!("http://{addr}/");
            let mut seed = client_no.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut next = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 2_000_001) as i64 - 1_000_000
            };
            for call in 0..1_000 {
                let (a, b) = (next(), next());
                let (method, expected) = match call % 3 {
                    0 => ("add", a + b),
                    1 => ("subtract", a - b),
                    _ => ("multiply", a * b),
                };
                let id = format!("{client_no}/{call}");
                let body = format!(r#"{{"jsonrpc":"2.0","method":"{method}","params":{{"a":{a},"b":{b}}},"id":"{id}"}}"#);
                let (_, answer) = send(&http, "POST", &url, &body).await;
                assert_eq!(
                    serde_json::from_str::<Value>(&answer).unwrap(),
                    json!({"jsonrpc":"2.0","result":expected,"id":id})
                );
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(240), task)
            .await
            .expect("in time")
            .unwrap();
    }
    healthy(addr).await;
}
