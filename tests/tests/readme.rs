//! The README's sessions, run against the calculator: every curl command of "The calculator,
//! by curl" must get exactly the answer written under it, and the Python example must print
//! exactly what the README says it prints.

use rpc_tests::{
    client, console_session, readme_block, run_python, send, shell_words, Calculator, README, STEP,
};

const README_URL: &str = "http://127.0.0.1:5000";

/// The curl session: (command line, expected output) pairs.
fn curl_session() -> Vec<(&'static str, String)> {
    let session = console_session("## The calculator, by curl");
    assert!(session.len() >= 6, "the session has the tutorial's calls");
    session
}

#[tokio::test]
async fn every_curl_command_gets_the_answer_the_readme_shows() {
    let calculator = Calculator::start().await;
    let base = calculator.url("");
    let http = client(false);
    for (command, expected) in curl_session() {
        let words = shell_words(command);
        assert_eq!(words[0], "curl", "{command}");
        let url = words
            .iter()
            .find(|w| w.starts_with(README_URL))
            .expect("a URL")
            .replace(README_URL, &base);
        let body = words
            .iter()
            .position(|w| w == "-d")
            .map(|i| words[i + 1].clone());
        let (method, body) = match &body {
            Some(body) => ("POST", body.as_str()),
            None => ("GET", ""),
        };
        let (_, answer) = send(&http, method, &url, body).await;
        assert_eq!(answer.trim(), expected.trim(), "`{command}`");
    }
    calculator.stop().await;
}

#[tokio::test]
async fn the_curl_commands_run_as_written_where_curl_is_installed() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("curl is not installed: the commands were checked by the HTTP client alone");
        return;
    }
    let calculator = Calculator::start().await;
    for (command, expected) in curl_session() {
        let command = command.replace(README_URL, &calculator.url(""));
        let output = tokio::time::timeout(
            STEP,
            tokio::process::Command::new("sh")
                .arg("-c")
                .arg(&command)
                .output(),
        )
        .await
        .expect("curl finishes")
        .expect("curl runs");
        assert!(output.status.success(), "`{command}` failed");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            expected.trim(),
            "`{command}`"
        );
    }
    calculator.stop().await;
}

#[tokio::test]
async fn the_python_example_prints_what_the_readme_says() {
    let calculator = Calculator::start().await;
    let script = readme_block("## From Python", "python").replace(README_URL, &calculator.url(""));
    let expected = readme_block("## From Python", "text");
    if let Some(printed) = run_python("jsonrpcclient, requests", &script, &[]).await {
        assert_eq!(printed.trim(), expected.trim());
    }
    calculator.stop().await;
}

#[test]
fn the_readme_shows_the_two_commands() {
    assert!(README.contains("```sh\ncargo run --example calculator\n```"));
    assert!(README.contains("```sh\ncargo test --workspace\n```"));
}
