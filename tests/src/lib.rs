#![doc = include_str!("../../README.md")]
//!
//! ---
//!
//! This crate holds the end-to-end tests; the README above is its documentation, so that the
//! README's Rust code is compiled as a doctest. The helpers below start the calculator on
//! `127.0.0.1:0` and talk HTTP to it, every wait bounded.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The longest one request may take in a test.
pub const STEP: Duration = Duration::from_secs(10);

/// The calculator, served in this process on a free loopback port until dropped.
#[derive(Debug)]
pub struct Calculator {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Calculator {
    /// Starts it.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(rpc_examples::calculator::serve(listener, async {
            stopped.await.ok();
        }));
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// The URL of `path` on it.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops it gracefully and waits for it.
    ///
    /// # Panics
    /// If it does not stop in time or fails.
    pub async fn stop(mut self) {
        self.stop.take().map(|stop| stop.send(()));
        let task = &mut self.task;
        tokio::time::timeout(STEP, task)
            .await
            .expect("stops in time")
            .expect("joins")
            .expect("no error");
    }
}

impl Drop for Calculator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        self.task.abort();
    }
}

/// An HTTP/1.1 client, or an h2c one.
pub fn client(http2: bool) -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new())
        .http2_only(http2)
        .build_http()
}

/// Sends `body` (with `Content-Type: application/json` unless `GET`) and returns the status and
/// the body as text.
///
/// # Panics
/// If the exchange fails or takes longer than [`STEP`].
pub async fn send(
    client: &Client<HttpConnector, Full<Bytes>>,
    method: &str,
    url: &str,
    body: &str,
) -> (u16, String) {
    let headers: &[(&str, &str)] = if method == "GET" {
        &[]
    } else {
        &[("content-type", "application/json")]
    };
    send_with(client, method, url, headers, body).await
}

/// Sends `body` with `headers` and returns the status and the body as text.
///
/// # Panics
/// If the exchange fails or takes longer than [`STEP`].
pub async fn send_with(
    client: &Client<HttpConnector, Full<Bytes>>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut request = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("a request");
    let exchange = async {
        let response = client.request(request).await.expect("a response");
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        (status, String::from_utf8(body.to_vec()).expect("UTF-8"))
    };
    tokio::time::timeout(STEP, exchange)
        .await
        .expect("answered in time")
}

/// The README, for the tests that replay its sessions.
pub const README: &str = include_str!("../../README.md");

/// The fenced block of `language` that follows `heading` in the README.
///
/// # Panics
/// If there is none.
pub fn readme_block(heading: &str, language: &str) -> &'static str {
    let section = &README[README
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in the README"))..];
    let fence = format!("```{language}\n");
    let start = section
        .find(&fence)
        .unwrap_or_else(|| panic!("no {language} block after {heading:?}"))
        + fence.len();
    let end = section[start..].find("```").expect("a closed block");
    &section[start..start + end]
}

/// Splits a command line the way a shell would, for the single-quoted words the README uses.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut in_word = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The README's console session after `heading`: (command line, expected output) pairs.
///
/// # Panics
/// If the block is missing, or output comes before any command.
pub fn console_session(heading: &str) -> Vec<(&'static str, String)> {
    let block = readme_block(heading, "console");
    let mut session: Vec<(&str, String)> = Vec::new();
    for line in block.lines() {
        match line.strip_prefix("$ ") {
            Some(command) => session.push((command, String::new())),
            None => {
                let (_, output) = session.last_mut().expect("output follows a command");
                output.push_str(line);
                output.push('\n');
            }
        }
    }
    session
}

/// `python3`, if it has `modules` (`"requests, jsonrpcclient"`); outside CI, `None` when it
/// has not (the caller skips); in CI, a missing module fails the test.
///
/// # Panics
/// In CI, when python3 or a module is missing.
pub fn python(modules: &str) -> Option<tokio::process::Command> {
    let probe = std::process::Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .stderr(std::process::Stdio::null())
        .status();
    if !probe.is_ok_and(|status| status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have python3 with {modules} installed"
        );
        eprintln!("python3 with {modules} is not installed: skipped");
        return None;
    }
    let mut command = tokio::process::Command::new("python3");
    command.kill_on_drop(true);
    Some(command)
}

/// Runs a Python `script` with `args` and returns what it printed, or `None` when python3 or
/// one of `modules` is missing outside CI (see [`python`]).
///
/// # Panics
/// When the script fails or runs over a minute.
pub async fn run_python(modules: &str, script: &str, args: &[&str]) -> Option<String> {
    let mut command = python(modules)?;
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        command.arg("-c").arg(script).args(args).output(),
    )
    .await
    .expect("python finishes")
    .expect("python runs");
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs `command` with `sh -c`, within [`STEP`]: its output.
///
/// # Panics
/// When the shell cannot run, or the command takes longer.
pub async fn shell(command: &str) -> std::process::Output {
    shell_in(command, None).await
}

/// [`shell`] in the directory `dir` (the current one when `None`).
///
/// # Panics
/// When the shell cannot run, or the command takes longer.
pub async fn shell_in(command: &str, dir: Option<&std::path::Path>) -> std::process::Output {
    let mut sh = tokio::process::Command::new("sh");
    sh.arg("-c").arg(command).kill_on_drop(true);
    if let Some(dir) = dir {
        sh.current_dir(dir);
    }
    tokio::time::timeout(STEP, sh.output())
        .await
        .unwrap_or_else(|_| panic!("`{command}` did not finish"))
        .unwrap_or_else(|err| panic!("`{command}` did not run: {err}"))
}

/// Starts `binary` (the calculator) with `args` in `dir`, and returns it with the base URL it
/// printed first (`http://...` or `https://...`); its stdout is read on from then on, so it
/// never blocks on a full pipe. Killed when dropped.
///
/// # Panics
/// When it does not start, or prints no URL within [`STEP`].
pub async fn start_binary(
    binary: &str,
    args: &[&str],
    dir: Option<&std::path::Path>,
) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut command = tokio::process::Command::new(binary);
    command
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command.spawn().expect("starts");
    let stdout = child.stdout.take().expect("piped");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(STEP, lines.next_line())
        .await
        .expect("prints in time")
        .unwrap()
        .expect("a line");
    let url = line
        .split_whitespace()
        .find(|word| word.starts_with("http://") || word.starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

/// A `redis-server` of a test's, on a loopback port of its own, stopped when dropped.
#[derive(Debug)]
pub struct Redis {
    child: std::process::Child,
    /// Its port.
    pub port: u16,
}

impl Redis {
    /// Starts one on a free port, or `None` (having said why) where there is no
    /// `redis-server` to run; in CI, where `.ci/run` installs it, its absence fails the test.
    pub fn start() -> Option<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Redis::on(port)
    }

    /// Starts one on `port`; `None` as for [`Redis::start`].
    pub fn on(port: u16) -> Option<Redis> {
        let spawned = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(err) if std::env::var_os("CI").is_none() => {
                eprintln!("skipped: no redis-server to run ({err}); install redis-server");
                return None;
            }
            Err(err) => panic!("redis-server is needed in CI (.ci/run installs it): {err}"),
        };
        let redis = Redis { child, port };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < STEP, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(redis)
    }

    /// Where it listens, as a URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops it; its port is free again.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Redis {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
