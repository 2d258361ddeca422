//! The README's sessions, run against the calculator: every curl command of "The calculator,
//! by curl" must get exactly the answer written under it, and the Python example must print
//! exactly what the README says it prints.

use rpc_tests::{
    client, console_session, readme_block, run_python, send, shell, shell_words, Calculator, README,
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
        let output = shell(&command).await;
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

/// The discovery session: its one command, piped through `python3 -m json.tool | head -20`.
#[tokio::test]
async fn the_discovery_session_prints_what_the_readme_shows() {
    let session = console_session("## Discovery: the service describes itself (OpenRPC)");
    let [(command, expected)] = session.as_slice() else {
        panic!("one command");
    };
    let calculator = Calculator::start().await;
    let words = shell_words(command);
    let url = words
        .iter()
        .find(|w| w.starts_with(README_URL))
        .expect("a URL")
        .replace(README_URL, &calculator.url(""));
    let body = &words[words.iter().position(|w| w == "-d").expect("a body") + 1];
    let (_, answer) = send(&client(false), "POST", &url, body).await;
    let pretty = json_tool(&answer);
    let head: Vec<&str> = pretty.lines().take(20).collect();
    assert_eq!(head.join("\n"), expected.trim_end());
    // As written, where the shell has curl and python3.
    let has = |tool: &str| {
        std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok()
    };
    if has("curl") && has("python3") {
        let command = command.replace(README_URL, &calculator.url(""));
        let output = shell(&command).await;
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim_end(),
            expected.trim_end()
        );
    }
    calculator.stop().await;
}

/// What `python3 -m json.tool` prints for compact JSON: four spaces of indent, `": "` after
/// keys, the keys in the order they came, empty containers as `{}` and `[]`.
fn json_tool(compact: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = compact.trim().chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"    ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' if matches!(chars.peek(), Some('}' | ']')) => {
                out.push(c);
                out.extend(chars.next());
            }
            '{' | '[' => {
                out.push(c);
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                depth -= 1;
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out
}
