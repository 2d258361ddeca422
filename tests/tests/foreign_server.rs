//! Our client against a server we did not write: Python's `jsonrpcserver` (the library of
//! the tutorial this project grew from) behind the standard library's HTTP server. CI
//! installs it; elsewhere the test is skipped when it is missing.

use std::process::Stdio;

use rpc_hyper::client::Client;
use rpc_tests::STEP;
use tokio::io::AsyncBufReadExt;

const SERVER: &str = r#"
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from jsonrpcserver import method, Result, Success, InvalidParams, dispatch

@method
def add(a, b) -> Result:
    return Success(a + b)

@method
def divide(a, b) -> Result:
    if b == 0:
        return InvalidParams("division by zero")
    return Success(a / b)

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        answer = dispatch(body)
        if answer:
            data = answer.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

#[tokio::test]
async fn our_client_against_pythons_jsonrpcserver() {
    let Some(mut python) = rpc_tests::python("jsonrpcserver") else {
        return;
    };
    let mut child = python
        .arg("-c")
        .arg(SERVER)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let port = tokio::time::timeout(STEP, lines.next_line())
        .await
        .expect("the server starts in time")
        .unwrap()
        .expect("its port");
    let client = Client::builder(&format!("http://127.0.0.1:{port}/"))
        .build()
        .unwrap();

    assert_eq!(client.request::<i64>("add", (2, 3)).await.unwrap(), 5);
    assert_eq!(
        client
            .request::<i64>("add", serde_json::json!({"a": 2, "b": 3}))
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        client
            .call(rpc_examples::calculator::divide::call(6, 3))
            .await
            .unwrap(),
        2.0
    );
    let err = client
        .call(rpc_examples::calculator::divide::call(1, 0))
        .await
        .unwrap_err();
    let error = err.rpc().expect("its error object");
    assert_eq!(error.code(), -32602);
    assert_eq!(
        error.data_as::<String>().unwrap().unwrap(),
        "division by zero"
    );
    let missing = client.request::<i64>("sqrt", (9,)).await.unwrap_err();
    assert_eq!(missing.rpc().unwrap().code(), -32601);
    client.notify("add", (1, 2)).await.unwrap();

    let mut batch = client.batch();
    let sum = batch
        .call(rpc_examples::calculator::add::call(1, 2))
        .unwrap();
    let zero = batch
        .call(rpc_examples::calculator::divide::call(1, 0))
        .unwrap();
    batch.notify("add", (0, 0)).unwrap();
    let replies = batch.send().await.unwrap();
    assert_eq!(replies.get(&sum).unwrap(), 3);
    assert_eq!(
        replies.get(&zero).unwrap_err().rpc().unwrap().code(),
        -32602
    );

    child.kill().await.ok();
}
