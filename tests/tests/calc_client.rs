//! The Rust client example as the README shows it: each command of "From Rust" against the
//! calculator, with exactly the output written under it, and its exit status.

use std::process::Stdio;

use rpc_tests::{console_session, shell_words, Calculator, STEP};

const BINARY: &str = env!("CARGO_BIN_EXE_calc-client");

#[tokio::test]
async fn every_command_of_from_rust_prints_what_the_readme_says() {
    let calculator = Calculator::start().await;
    let url = calculator.url("/rpc");
    let session = console_session("## From Rust");
    assert_eq!(session.len(), 5, "the tutorial's five calls");
    for (command, expected) in session {
        let words = shell_words(command);
        let args = &words[words
            .iter()
            .position(|w| w == "--")
            .expect("`--` before the args")
            + 1..];
        let output = tokio::time::timeout(
            STEP,
            tokio::process::Command::new(BINARY)
                .arg("--url")
                .arg(&url)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .output(),
        )
        .await
        .expect("exits in time")
        .expect("runs");
        let failed = args.iter().any(|a| a == "divide") && args.last().is_some_and(|b| b == "0");
        let printed = if failed {
            &output.stderr
        } else {
            &output.stdout
        };
        assert_eq!(
            String::from_utf8_lossy(printed).trim(),
            expected.trim(),
            "`{command}`"
        );
        assert_eq!(
            output.status.code(),
            Some(if failed { 1 } else { 0 }),
            "`{command}`"
        );
    }
    calculator.stop().await;
}

#[tokio::test]
async fn a_calculator_that_is_not_there_is_a_clear_failure() {
    let output = tokio::process::Command::new(BINARY)
        .args(["--url", "http://127.0.0.1:1/rpc", "add", "2", "3"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("transport"));
    let output = tokio::process::Command::new(BINARY)
        .args(["add", "2"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[tokio::test]
async fn countdown_and_watch_print_what_the_calculator_pushes() {
    use tokio::io::AsyncBufReadExt;
    let calculator = Calculator::start().await;
    let url = calculator.url("/rpc");
    let output = tokio::time::timeout(
        STEP,
        tokio::process::Command::new(BINARY)
            .args(["--url", &url, "countdown", "3", "10"])
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "3\n2\n1\n0\n");

    let mut watch = tokio::process::Command::new(BINARY)
        .args(["--url", &url, "watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut said = tokio::io::BufReader::new(watch.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(STEP, said.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(first.starts_with("watching"), "{first}");
    let http = rpc_tests::client(false);
    for body in [
        r#"{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}"#,
        r#"{"jsonrpc":"2.0","method":"divide","params":[1,0],"id":2}"#,
        r#"{"jsonrpc":"2.0","method":"divide","params":[6,3],"id":3}"#,
    ] {
        rpc_tests::send(&http, "POST", &url, body).await;
    }
    let mut printed = tokio::io::BufReader::new(watch.stdout.take().unwrap()).lines();
    for expected in [
        r#"{"method":"add","a":2,"b":3,"result":5}"#,
        r#"{"method":"divide","a":6,"b":3,"result":2.0}"#,
    ] {
        let line = tokio::time::timeout(STEP, printed.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(line, expected);
    }
    watch.kill().await.ok();
    calculator.stop().await;
}
