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
