//! The README's "Serving TLS" as a new user runs it: its `openssl` commands make a CA and a
//! certificate, the calculator binary serves https with them, and clients we did not write
//! call it: curl (`--cacert`, HTTP/1.1 and h2), Python's `requests`, Python's `websockets`
//! over wss; and calc-client `--ca` as the README shows, with exactly its output. A client
//! that trusts no such CA, and one that offers only TLS 1.0, are refused; SIGHUP reloads.

use std::path::{Path, PathBuf};

use rpc_tests::{
    console_session, readme_block, run_python, shell_in, shell_words, start_binary, STEP,
};

const CALCULATOR: &str = env!("CARGO_BIN_EXE_calculator");
const CALC_CLIENT: &str = env!("CARGO_BIN_EXE_calc-client");
const HEADING: &str = "## Serving TLS";
/// The address the README's commands use; the test's calculator listens on a free port.
const README_ADDR: &str = "localhost:5443";

/// Whether `tool` runs here; in CI it must.
fn have(tool: &str) -> bool {
    let found = std::process::Command::new(tool)
        .arg("version")
        .output()
        .is_ok();
    if !found {
        assert!(std::env::var_os("CI").is_none(), "CI must have {tool}");
        eprintln!("{tool} is not installed: skipped");
    }
    found
}

/// A fresh directory with the README's CA and certificate, made by its `openssl` commands.
async fn readme_certificates(test: &str) -> Option<PathBuf> {
    if !have("openssl") {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("rpc-tls-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = shell_in(readme_block(HEADING, "sh"), Some(&dir)).await;
    assert!(
        output.status.success(),
        "the README's openssl commands failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in ["ca.pem", "cert.pem", "key.pem"] {
        assert!(dir.join(file).exists(), "no {file}");
    }
    Some(dir)
}

/// The calculator on https with the README's files, and the `localhost:PORT` it listens on.
async fn start(dir: &Path) -> (tokio::process::Child, String) {
    let args = [
        "--addr",
        "127.0.0.1:0",
        "--tls-cert",
        "cert.pem",
        "--tls-key",
        "key.pem",
    ];
    let (child, url) = start_binary(CALCULATOR, &args, Some(dir)).await;
    let port = url.rsplit(':').next().expect("a port").to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    (child, format!("localhost:{port}"))
}

/// Runs `command` in `dir` within the step's time.
async fn run_in(dir: &Path, program: &str, args: &[String]) -> std::process::Output {
    tokio::time::timeout(
        STEP,
        tokio::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .output(),
    )
    .await
    .expect("finishes in time")
    .expect("runs")
}

#[tokio::test]
async fn the_readme_session_over_https_prints_what_it_says() {
    let Some(dir) = readme_certificates("session").await else {
        return;
    };
    let (child, addr) = start(&dir).await;
    let session = console_session(HEADING);
    assert_eq!(session.len(), 3, "curl and two calc-client commands");
    let curl = have("curl");
    for (command, expected) in session {
        let words: Vec<String> = shell_words(&command.replace(README_ADDR, &addr));
        let (program, args) = match words[0].as_str() {
            "curl" if !curl => continue,
            "curl" => ("curl", &words[1..]),
            "cargo" => {
                let after = words.iter().position(|w| w == "--").expect("`--`") + 1;
                (CALC_CLIENT, &words[after..])
            }
            other => panic!("unexpected command {other}"),
        };
        let output = run_in(&dir, program, args).await;
        assert!(
            output.status.success(),
            "`{command}`: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            expected.trim(),
            "`{command}`"
        );
    }

    // Python's requests, the README's script as written but for the port.
    let script = readme_block(HEADING, "python").replace(README_ADDR, &addr);
    let expected = readme_block(HEADING, "text");
    let ca = dir.join("ca.pem");
    let script = script.replace("\"ca.pem\"", &format!("{:?}", ca.display().to_string()));
    if let Some(printed) = run_python("requests", &script, &[]).await {
        assert_eq!(printed.trim(), expected.trim());
    }
    drop(child);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn foreign_clients_reach_it_over_h2_and_wss_and_untrusted_ones_are_refused() {
    let Some(dir) = readme_certificates("foreign").await else {
        return;
    };
    let (mut child, addr) = start(&dir).await;
    let url = format!("https://{addr}/rpc");
    let body = r#"{"jsonrpc":"2.0","method":"divide","params":[1,0],"id":2}"#;
    if have("curl") {
        let h2 = run_in(
            &dir,
            "curl",
            &[
                "-s",
                "--http2",
                "--cacert",
                "ca.pem",
                "-w",
                " %{http_version}",
                "-H",
                "Content-Type: application/json",
                "-d",
                body,
                &url,
            ]
            .map(str::to_owned),
        )
        .await;
        assert_eq!(
            String::from_utf8_lossy(&h2.stdout),
            r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"division by zero"},"id":2} 2"#,
            "h2 by ALPN"
        );
        // Without the CA: curl refuses the certificate (exit 60).
        let untrusted = run_in(
            &dir,
            "curl",
            &["-s".into(), "-d".into(), "{}".into(), url.clone()],
        )
        .await;
        assert_eq!(untrusted.status.code(), Some(60), "{untrusted:?}");
        // Plaintext to the TLS port: a 400 that says why.
        let plain = run_in(
            &dir,
            "curl",
            &[
                "-s".into(),
                "-d".into(),
                "{}".into(),
                url.replace("https://", "http://"),
            ],
        )
        .await;
        assert!(
            String::from_utf8_lossy(&plain.stdout).contains("This port speaks TLS"),
            "{plain:?}"
        );
    }

    let ca = dir.join("ca.pem").display().to_string();
    let wss = format!("wss://{addr}/rpc");
    let script = r#"
import asyncio, json, ssl, sys
import websockets

async def main(url, ca):
    context = ssl.create_default_context(cafile=ca)
    async with websockets.connect(url, ssl=context) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "add", "params": [2, 3], "id": 1}))
        print(await ws.recv())

asyncio.run(main(sys.argv[1], sys.argv[2]))
"#;
    if let Some(printed) = run_python("websockets", script, &[&wss, &ca]).await {
        assert_eq!(printed.trim(), r#"{"jsonrpc":"2.0","result":5,"id":1}"#);
    }

    // A client that offers TLS 1.0 alone (allowed by its OpenSSL at security level 0).
    let old = r#"
import socket, ssl, sys, warnings
warnings.simplefilter("ignore")
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1
context.set_ciphers("DEFAULT:@SECLEVEL=0")
host, port = sys.argv[1].split(":")
try:
    context.wrap_socket(socket.create_connection((host, int(port))), server_hostname=host)
    print("connected")
except ssl.SSLError as err:
    print("refused", err.reason)
"#;
    if let Some(printed) = run_python("ssl", old, &[&addr]).await {
        // Refused by the server's alert, not by the local OpenSSL before it sent anything.
        assert!(
            printed.starts_with("refused") && printed.contains("ALERT"),
            "{printed}"
        );
    }

    // SIGHUP reads the files again: a certificate of a new CA written over the old one is
    // served from then on, and serving goes on.
    let renewed = readme_certificates("renewed")
        .await
        .expect("openssl, as above");
    for file in ["cert.pem", "key.pem"] {
        std::fs::copy(renewed.join(file), dir.join(file)).unwrap();
    }
    let pid = child.id().expect("running").to_string();
    let hup = tokio::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .await
        .unwrap();
    assert!(hup.success());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let call = |dir: PathBuf| {
        let url = url.clone();
        async move {
            let args = ["--url", &url, "--ca", "ca.pem", "add", "20", "22"].map(str::to_owned);
            run_in(&dir, CALC_CLIENT, &args).await
        }
    };
    let new = call(renewed.clone()).await;
    assert_eq!(String::from_utf8_lossy(&new.stdout).trim(), "42", "{new:?}");
    let old = call(dir.clone()).await;
    assert!(
        !old.status.success(),
        "the old CA no longer verifies: {old:?}"
    );
    assert!(child.try_wait().unwrap().is_none(), "still running");
    drop(child);
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&renewed).ok();
}
