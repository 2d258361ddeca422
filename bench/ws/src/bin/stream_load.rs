//! The byte-stream load client of the benchmarks: newline-delimited calls over a Unix
//! socket, and Content-Length-framed calls over a child process's stdin and stdout. Requests
//! are prepared once and answers counted without parsing more than their framing, so that
//! the client costs little beside the server it measures.
//!
//! Usage:
//!   stream_load ipc-calls PATH PID CONNS IN_FLIGHT SECS  calls/s and server CPU per call
//!   stream_load ipc-idle  PATH PID CONNS                 server RSS per idle connection
//!   stream_load stdio IN_FLIGHT SECS -- COMMAND ARGS...  a server on its stdio, LSP framing:
//!                                                        calls/s and its CPU per call
//!
//! Each prints one line of `key=value` pairs.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rpc_bench_ws::{rss_kib, window};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::UnixStream;

const ADD: &[u8] = br#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#;

/// Counts complete messages in what is read: lines, or Content-Length frames.
struct Counter {
    buf: Vec<u8>,
    len: usize,
    content_length: bool,
}

impl Counter {
    fn new(content_length: bool) -> Self {
        Self {
            buf: vec![0; 1 << 16],
            len: 0,
            content_length,
        }
    }

    /// Reads once; how many messages were completed, or `None` at the end.
    async fn read(&mut self, stream: &mut (impl AsyncRead + Unpin), first: &mut bool) -> Option<u64> {
        if self.len == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = stream.read(&mut self.buf[self.len..]).await.ok()?;
        if n == 0 {
            return None;
        }
        self.len += n;
        let mut at = 0;
        let mut messages = 0;
        loop {
            let rest = &self.buf[at..self.len];
            let (body, end) = if self.content_length {
                let Some(head) = rest.windows(4).position(|w| w == b"\r\n\r\n") else { break };
                let len: usize = std::str::from_utf8(&rest[16..head]).unwrap().trim().parse().unwrap();
                if rest.len() < head + 4 + len {
                    break;
                }
                (&rest[head + 4..head + 4 + len], head + 4 + len)
            } else {
                let Some(end) = rest.iter().position(|&b| b == b'\n') else { break };
                (&rest[..end], end + 1)
            };
            if std::mem::take(first) {
                assert!(body.windows(10).any(|w| w == br#""result":5"#), "{}", String::from_utf8_lossy(body));
            }
            messages += 1;
            at += end;
        }
        self.buf.copy_within(at..self.len, 0);
        self.len -= at;
        Some(messages)
    }
}

/// Keeps `in_flight` calls outstanding on one stream until `stop`, counting answers.
async fn keep_calling(
    mut read: impl AsyncRead + Unpin,
    mut write: impl AsyncWrite + Unpin,
    call: Vec<u8>,
    in_flight: usize,
    content_length: bool,
    answered: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    let burst = call.repeat(in_flight);
    let mut counter = Counter::new(content_length);
    write.write_all(&burst).await.unwrap();
    let mut first = true;
    while !stop.load(Ordering::Relaxed) {
        let Some(n) = counter.read(&mut read, &mut first).await else {
            eprintln!("warning: the server closed a connection; it counts no more");
            return;
        };
        answered.fetch_add(n, Ordering::Relaxed);
        write.write_all(&burst[..n as usize * call.len()]).await.unwrap();
    }
}

async fn ipc_calls(path: &str, pid: u32, conns: usize, in_flight: usize, secs: u64) {
    let answered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let call = [ADD, b"\n"].concat();
    for _ in 0..conns {
        let (read, write) = UnixStream::connect(path).await.expect("connect").into_split();
        let (answered, stop, call) = (answered.clone(), stop.clone(), call.clone());
        tokio::spawn(keep_calling(read, write, call, in_flight, false, answered, stop));
    }
    let (rate, cpu) = window(pid, &answered, secs).await;
    stop.store(true, Ordering::Relaxed);
    println!("calls_per_s={rate:.0} server_cpu_us_per_call={cpu:.3}");
}

async fn ipc_idle(path: &str, pid: u32, conns: usize) {
    let before = rss_kib(pid);
    let mut open = Vec::with_capacity(conns);
    for _ in 0..conns {
        let mut stream = UnixStream::connect(path).await.expect("connect");
        // Each has served a call, as a real client's connection has.
        stream.write_all(&[ADD, b"\n"].concat()).await.unwrap();
        let mut answer = [0; 64];
        let _ = stream.read(&mut answer).await.unwrap();
        open.push(stream);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    let per = after.saturating_sub(before) as f64 * 1024.0 / conns as f64;
    println!("idle_conns={conns} rss_before_kib={before} rss_after_kib={after} rss_bytes_per_conn={per:.0}");
}

async fn stdio(in_flight: usize, secs: u64, command: &[String]) {
    let mut child = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let pid = child.id().expect("running");
    let (read, write) = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let mut call = format!("Content-Length: {}\r\n\r\n", ADD.len()).into_bytes();
    call.extend_from_slice(ADD);
    let answered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    tokio::spawn(keep_calling(read, write, call, in_flight, true, answered.clone(), stop.clone()));
    let (rate, cpu) = window(pid, &answered, secs).await;
    stop.store(true, Ordering::Relaxed);
    println!("calls_per_s={rate:.0} server_cpu_us_per_call={cpu:.3}");
    let _ = child.kill().await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> &str { args.get(i).map(String::as_str).expect("see the usage in stream_load.rs") };
    let num = |i: usize| -> u64 { arg(i).parse().expect("a number") };
    match arg(0) {
        "ipc-calls" => ipc_calls(arg(1), num(2) as u32, num(3) as usize, num(4) as usize, num(5)).await,
        "ipc-idle" => ipc_idle(arg(1), num(2) as u32, num(3) as usize).await,
        "stdio" => {
            let command = args.iter().position(|a| a == "--").expect("-- COMMAND");
            stdio(num(1) as usize, num(2), &args[command + 1..]).await;
        }
        other => panic!("unknown mode {other}"),
    }
}
