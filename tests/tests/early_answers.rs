//! A body refused before it is read, as a client that writes its whole body before it reads
//! sees it: the server reads the rest and drops it before it closes, so the answer is not lost
//! to a reset (see `rpc-hyper/tests/linger.rs` for the bounds).

use std::net::SocketAddr;

use rpc_hyper::RpcService;

/// Python's `http.client` writes a whole body before it reads a byte of the answer, and a
/// failed write ends the request: the client that a server closing on an unread body resets
/// before it learns why (`BrokenPipeError`).
const POST_TOO_MUCH: &str = r#"
import sys, http.client
port, length = int(sys.argv[1]), int(sys.argv[2])
body = b" " * length
for chunked in (False, True):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = (body[i:i + 65536] for i in range(0, length, 65536)) if chunked else body
    headers = {"Content-Type": "application/json"}
    connection.request("POST", "/", body=data, headers=headers, encode_chunked=chunked)
    reply = connection.getresponse()
    print(reply.status, reply.read().decode())
    connection.close()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_client_that_writes_its_whole_body_first_reads_the_413() {
    // The default limit, 10 MiB, and 11 MiB sent: more than loopback's socket buffers hold.
    let listener = rpc_hyper::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let addr = listener.local_addr().unwrap();
    let endpoint = RpcService::new(rpc_examples::calculator::router());
    let _server = tokio::spawn(std::future::IntoFuture::into_future(rpc_hyper::serve(
        listener, endpoint,
    )));
    let port = addr.port().to_string();
    let length = (11 * 1024 * 1024).to_string();
    let Some(printed) =
        rpc_tests::run_python("http.client", POST_TOO_MUCH, &[&port, &length]).await
    else {
        return;
    };
    assert_eq!(printed, "413 Payload Too Large\n413 Payload Too Large\n");
    // And the server goes on serving.
    let call = r#"{"jsonrpc":"2.0","method":"add","params":[40,2],"id":"ok"}"#;
    let url = format!("http://{addr}/");
    let (status, body) = rpc_tests::send(&rpc_tests::client(false), "POST", &url, call).await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"jsonrpc":"2.0","result":42,"id":"ok"}"#)
    );
}
