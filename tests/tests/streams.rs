//! The calculator over byte streams, with clients nobody here wrote: the README's stdio
//! session as written, Python's standard library over its Unix socket and its raw TCP (the
//! README's snippets), Node's `vscode-jsonrpc` over its stdio with LSP framing, and web3.py's
//! IPC provider against a Unix-socket server with Ethereum's methods. CI installs Python's
//! web3 and the Node package (`.ci/run`); elsewhere a missing one skips its test.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use rpc_core::{rpc_method, rpc_subscription, Router, Sink};
use rpc_tests::{console_session, readme_block, run_python, shell, STEP};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_calculator");

/// A fresh directory for a socket file.
fn socket_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rpc-streams-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// The calculator with `--ipc PATH --tcp 127.0.0.1:0` beside HTTP on a free port; with the
/// TCP address it printed.
async fn start_sockets(ipc: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(BINARY)
        .args(["--addr", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--ipc"])
        .arg(ipc)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let line = tokio::time::timeout(STEP, lines.next_line())
        .await
        .expect("prints in time")
        .expect("reads")
        .expect("a line");
    assert!(
        line.contains(&format!("a Unix socket at {}", ipc.display())),
        "{line}"
    );
    let tcp = line
        .split("raw TCP at ")
        .nth(1)
        .expect("the TCP address")
        .trim()
        .to_owned();
    (child, tcp)
}

/// Stops the calculator with SIGTERM; it must exit 0.
async fn stop(mut child: Child) {
    let pid = child.id().expect("running");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = tokio::time::timeout(STEP, child.wait())
        .await
        .expect("exits in time")
        .expect("exits");
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn the_stdio_session_prints_what_the_readme_shows() {
    let session = console_session("### Over stdio");
    let [(command, expected)] = session.as_slice() else {
        panic!("one command");
    };
    let command = command.replace("cargo run -q --example calculator --", BINARY);
    let output = shell(&command).await;
    assert!(output.status.success(), "`{command}`");
    assert_eq!(String::from_utf8_lossy(&output.stdout), *expected);
}

#[tokio::test]
async fn stdio_stops_on_sigterm_with_stdin_still_open_and_exits_zero() {
    let mut child = Command::new(BINARY)
        .arg("--stdio")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped")).lines();
    let greeting = tokio::time::timeout(STEP, stderr.next_line())
        .await
        .expect("in time");
    assert!(greeting
        .expect("reads")
        .expect("a line")
        .contains("stdin and stdout"));
    // stdin stays open: the server's read of it is waiting when the signal comes.
    let _stdin = child.stdin.take();
    stop(child).await;
}

#[tokio::test]
async fn pythons_standard_library_gets_the_readme_answers_over_the_unix_socket_and_tcp() {
    let dir = socket_dir("python");
    let path = dir.join("calculator.ipc");
    let (child, tcp) = start_sockets(&path).await;

    let script = readme_block("### Over a Unix socket", "python");
    let expected = readme_block("### Over a Unix socket", "text");
    let path_arg = path.to_str().expect("a UTF-8 path");
    if let Some(printed) = run_python("json, socket", script, &[path_arg]).await {
        assert_eq!(printed.trim(), expected.trim());
    }
    let script = readme_block("### Over TCP", "python");
    let expected = readme_block("### Over TCP", "text");
    if let Some(printed) = run_python("json, socket", script, &[&tcp]).await {
        assert_eq!(printed.trim(), expected.trim());
    }

    stop(child).await;
    assert!(
        !path.exists(),
        "the socket file is removed when the calculator stops"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `node` with `vscode-jsonrpc` installed in `tests/node`; outside CI, `None` without them.
fn node() -> Option<Command> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node");
    let installed = dir
        .join("node_modules/vscode-jsonrpc/package.json")
        .exists();
    let runs = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !(installed && runs) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have node, and vscode-jsonrpc in tests/node (npm ci --prefix tests/node)"
        );
        eprintln!("node or vscode-jsonrpc is not installed: skipped");
        return None;
    }
    let mut command = Command::new("node");
    command.current_dir(dir);
    Some(command)
}

#[tokio::test]
async fn vscode_jsonrpc_drives_the_calculator_over_stdio_with_content_length_framing() {
    let Some(mut node) = node() else { return };
    let output = node
        .args([
            "lsp_client.js",
            BINARY,
            "--stdio",
            "--framing",
            "content-length",
        ])
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("node finishes")
        .expect("node runs");
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON line of what it saw");
    assert_eq!(
        seen,
        serde_json::json!({
            "add": 5,
            "subtract": 6,
            "divide": 2,
            "error": {"code": -32602, "message": "Invalid params", "data": "division by zero"},
            "unknown": -32601,
            "concurrent": true,
            "concurrentCount": 200,
            // The cancelled wait, answered -32800 long before its 30 s.
            "cancelled": {"code": -32800, "message": "Request cancelled", "fast": true},
            // One answer per request: none for the ten notifications.
            "messages": 206,
            // The end of stdin: the calculator answered everything and exited 0.
            "exit": 0,
        })
    );
}

/// Awaits `what` within a test step.
async fn step<F: std::future::IntoFuture>(what: F) -> F::Output {
    tokio::time::timeout(STEP, what.into_future())
        .await
        .expect("in time")
}

/// Doubles `n`: what the Node server asks our calling side.
#[rpc_method]
fn double(n: i64) -> i64 {
    n * 2
}

/// What the Node server tells our calling side.
#[rpc_method]
fn told(told: rpc_core::State<'_, tokio::sync::mpsc::UnboundedSender<String>>, what: String) {
    let _ = told.send(what);
}

#[tokio::test]
async fn our_calling_side_serves_a_vscode_jsonrpc_server_that_calls_it_back() {
    use rpc_core::{Dialect, PeerError};
    use rpc_hyper::stream::{self, Framing};

    let Some(mut node) = node() else { return };
    let mut child = node
        .arg("lsp_server.js")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let (read, write) = (
        child.stdout.take().expect("piped"),
        child.stdin.take().expect("piped"),
    );
    let (sender, mut told_us) = tokio::sync::mpsc::unbounded_channel();
    let mut ours = Router::with_state(sender);
    ours.register(double::method())
        .and_then(|r| r.register(told::method()))
        .expect("distinct names");
    let connection = stream::serve(read, write, ours)
        .framing(Framing::ContentLength)
        .dialect(Dialect::Lsp)
        .connect();
    let peer = connection.peer();

    // It asks our `double` before it answers.
    let asked: i64 = step(peer.request("ask", [21])).await.expect("answered");
    assert_eq!(asked, 42);
    // It tells our `told`.
    let told_answer: bool = step(peer.request("tell", ())).await.expect("answered");
    assert!(told_answer);
    assert_eq!(step(told_us.recv()).await.as_deref(), Some("news"));
    // What we have no method for, we answer -32601.
    let code: i64 = step(peer.request("unknown", ())).await.expect("answered");
    assert_eq!(code, -32601);
    // A request we give up on is cancelled: vscode-jsonrpc's token fires.
    let held: Result<bool, PeerError> = peer
        .request("hold", ())
        .timeout(Duration::from_millis(200))
        .await;
    assert!(matches!(held, Err(PeerError::TimedOut(_))), "{held:?}");
    let cancelled: bool = step(peer.request("wasCancelled", ()))
        .await
        .expect("answered");
    assert!(cancelled, "the server saw $/cancelRequest");

    // Closing ends our side; the server sees its stdin end and exits 0.
    step(connection.close()).await.expect("closes cleanly");
    let status = step(child.wait()).await.expect("exits");
    assert!(status.success(), "{status}");
}

/// Ethereum's chain id, as a node answers it: hex.
#[rpc_method(name = "eth_chainId")]
fn chain_id() -> &'static str {
    "0x539"
}

/// The latest block's number.
#[rpc_method(name = "eth_blockNumber")]
fn block_number() -> &'static str {
    "0x10"
}

/// Every account holds one ether, at every block.
#[rpc_method(name = "eth_getBalance")]
fn get_balance(address: String, block: String) -> Result<&'static str, rpc_core::ErrorObject> {
    if !address.starts_with("0x") || block.is_empty() {
        return Err(rpc_core::ErrorObject::invalid_params(
            "an address and a block",
        ));
    }
    Ok("0xde0b6b3a7640000")
}

/// Who we are, as `web3.is_connected()` asks.
#[rpc_method(name = "web3_clientVersion")]
fn client_version() -> &'static str {
    "rpc-tests/0.0.0"
}

/// What `eth_subscribe` takes first.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
enum Kind {
    NewHeads,
}

/// New heads: a block every 10 ms, numbered from 0x11.
#[rpc_subscription(
    name = "eth_subscribe",
    unsubscribe = "eth_unsubscribe",
    notification = "eth_subscription"
)]
async fn heads(kind: Kind, sink: Sink<serde_json::Value>) {
    let Kind::NewHeads = kind;
    for number in 0x11u64.. {
        let head = serde_json::json!({
            "number": format!("{number:#x}"),
            "hash": format!("0x{number:064x}"),
            "parentHash": format!("0x{:064x}", number - 1),
            "timestamp": "0x6553f100",
        });
        if sink.send(head).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

const WEB3_SCRIPT: &str = r#"
import asyncio, sys
from web3 import AsyncIPCProvider, AsyncWeb3, IPCProvider, Web3

path = sys.argv[1]
w3 = Web3(IPCProvider(path, timeout=10))
print("connected", w3.is_connected())
print("chain", w3.eth.chain_id)
print("block", w3.eth.block_number)
print("balance", w3.eth.get_balance("0x" + "11" * 20))

async def heads():
    async with AsyncWeb3(AsyncIPCProvider(path)) as w3:
        subscription = await w3.eth.subscribe("newHeads")
        print("subscribed", subscription.startswith("0x"))
        seen = 0
        async for message in w3.socket.process_subscriptions():
            print("head", message["result"]["number"])
            seen += 1
            if seen == 3:
                break
        print("unsubscribed", await w3.eth.unsubscribe(subscription))

asyncio.run(asyncio.wait_for(heads(), 30))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web3_py_talks_to_a_unix_socket_server_as_to_an_ethereum_node() {
    let mut router = Router::new();
    router
        .register(chain_id::method())
        .and_then(|r| r.register(block_number::method()))
        .and_then(|r| r.register(get_balance::method()))
        .and_then(|r| r.register(client_version::method()))
        .and_then(|r| r.register(heads::method()))
        .expect("distinct names");
    let dir = socket_dir("web3");
    let path = dir.join("node.ipc");
    let listener = rpc_hyper::stream::IpcListener::bind(&path).expect("binds");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(std::future::IntoFuture::into_future(
        rpc_hyper::stream::serve_ipc(listener, router).with_graceful_shutdown(async {
            stopped.await.ok();
        }),
    ));
    let path_arg = path.to_str().expect("a UTF-8 path");
    if let Some(printed) = run_python("web3", WEB3_SCRIPT, &[path_arg]).await {
        assert_eq!(
            printed.trim(),
            "connected True\nchain 1337\nblock 16\nbalance 1000000000000000000\n\
             subscribed True\nhead 17\nhead 18\nhead 19\nunsubscribed True"
        );
    }
    stop.send(()).expect("the server runs");
    tokio::time::timeout(STEP, server)
        .await
        .expect("stops in time")
        .expect("joins")
        .expect("no error");
    assert!(!path.exists());
    let _ = std::fs::remove_dir_all(dir);
}
