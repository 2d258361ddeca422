//! Drives an MCP server over its stdio, as a host would: the initialize handshake, then
//! `tools/call` of `add` for SECS seconds: with IN_FLIGHT 1, one at a time (the latency of
//! each); with more, that many in flight (calls per second, and the server's CPU per call
//! from its /proc stat). Prints one line of `key=value` figures; the server's idle memory
//! (VmRSS after the handshake) too.
//!
//! Usage: driver SECS IN_FLIGHT COMMAND [ARGS...]   (`SOCKETPAIR=1`: the server's stdin and
//! stdout are socketpairs, as Node's `child_process` makes them, rather than pipes)

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::process::Command;
use tokio::sync::Semaphore;

fn call(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"add","arguments":{{"a":{id},"b":2}}}}}}"#
    )
}

/// The process's CPU time so far (user and system), in clock ticks of 10 ms.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command's closing parenthesis: utime is the 12th, stime the 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |at: usize| {
        fields
            .get(at)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [secs, in_flight, command, rest @ ..] = args.as_slice() else {
        eprintln!("usage: driver SECS IN_FLIGHT COMMAND [ARGS...]");
        std::process::exit(2);
    };
    let secs: u64 = secs.parse().expect("SECS");
    let in_flight: usize = in_flight.parse().expect("IN_FLIGHT");
    let mut spawn = Command::new(command);
    spawn.args(rest).stderr(Stdio::null()).kill_on_drop(true);
    let (mut child, mut stdin, mut lines) = if std::env::var_os("SOCKETPAIR").is_some() {
        let (ours_in, theirs_in) = std::os::unix::net::UnixStream::pair()?;
        let (ours_out, theirs_out) = std::os::unix::net::UnixStream::pair()?;
        spawn
            .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs_in)))
            .stdout(Stdio::from(std::os::fd::OwnedFd::from(theirs_out)));
        let child = spawn.spawn()?;
        ours_in.set_nonblocking(true)?;
        ours_out.set_nonblocking(true)?;
        let write: Box<dyn tokio::io::AsyncWrite + Unpin + Send> =
            Box::new(tokio::net::UnixStream::from_std(ours_in)?);
        let read: Box<dyn tokio::io::AsyncRead + Unpin + Send> =
            Box::new(tokio::net::UnixStream::from_std(ours_out)?);
        (child, BufWriter::new(write), BufReader::new(read).lines())
    } else {
        spawn.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = spawn.spawn()?;
        let write: Box<dyn tokio::io::AsyncWrite + Unpin + Send> =
            Box::new(child.stdin.take().expect("piped"));
        let read: Box<dyn tokio::io::AsyncRead + Unpin + Send> =
            Box::new(child.stdout.take().expect("piped"));
        (child, BufWriter::new(write), BufReader::new(read).lines())
    };
    let pid = child.id().expect("a pid");

    stdin.write_all(br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"driver","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
"#).await?;
    stdin.flush().await?;
    let _initialized = lines.next_line().await?.expect("an initialize answer");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle_rss = rss_kib(pid);

    if in_flight == 1 {
        let (p50, p99) = one_at_a_time(secs, &mut stdin, &mut lines).await?;
        println!("seq_p50_us={p50:.1} seq_p99_us={p99:.1} idle_rss_kib={idle_rss}");
        let _ = child.kill().await;
        return Ok(());
    }
    many_at_once(secs, in_flight, pid, stdin, lines, idle_rss).await;
    let _ = child.kill().await;
    Ok(())
}

type Stdin = BufWriter<Box<dyn tokio::io::AsyncWrite + Unpin + Send>>;
type Lines = tokio::io::Lines<BufReader<Box<dyn tokio::io::AsyncRead + Unpin + Send>>>;

/// Calls one at a time for `secs`: the median and 99th percentile latency, in µs.
async fn one_at_a_time(
    secs: u64,
    stdin: &mut Stdin,
    lines: &mut Lines,
) -> std::io::Result<(f64, f64)> {
    let mut latencies = Vec::new();
    let until = Instant::now() + Duration::from_secs(secs);
    let mut id = 1u64;
    while Instant::now() < until {
        let start = Instant::now();
        stdin.write_all(call(id).as_bytes()).await?;
        stdin.write_all(b"\n").await?;
        stdin.flush().await?;
        let answer = lines.next_line().await?.expect("an answer");
        latencies.push(start.elapsed());
        assert!(answer.contains(&format!("\"{}\"", id + 2)), "{answer}");
        id += 1;
    }
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    Ok((p(0.5), p(0.99)))
}

/// `in_flight` calls at once for `secs` (after a second's warm-up): a call goes out whenever
/// an answer comes back.
async fn many_at_once(
    secs: u64,
    in_flight: usize,
    pid: u32,
    mut stdin: Stdin,
    mut lines: Lines,
    idle_rss: u64,
) {
    let room = Arc::new(Semaphore::new(in_flight));
    let answered = Arc::new(AtomicU64::new(0));
    let reader = {
        let room = Arc::clone(&room);
        let answered = Arc::clone(&answered);
        tokio::spawn(async move {
            while let Ok(Some(_)) = lines.next_line().await {
                answered.fetch_add(1, Ordering::Relaxed);
                room.add_permits(1);
            }
        })
    };
    let writer = tokio::spawn(async move {
        let mut id = 1_000_000_000u64;
        loop {
            let Ok(permit) = room.acquire().await else {
                return;
            };
            permit.forget();
            let mut sent = 1;
            stdin.write_all(call(id).as_bytes()).await.ok();
            stdin.write_all(b"\n").await.ok();
            id += 1;
            // What room there is now goes in the same write.
            while let Ok(permit) = room.try_acquire() {
                permit.forget();
                stdin.write_all(call(id).as_bytes()).await.ok();
                stdin.write_all(b"\n").await.ok();
                id += 1;
                sent += 1;
            }
            let _ = sent;
            if stdin.flush().await.is_err() {
                return;
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(1)).await; // warm-up
    let (calls0, cpu0, time0) = (
        answered.load(Ordering::Relaxed),
        cpu_ticks(pid),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let (calls1, cpu1, elapsed) = (
        answered.load(Ordering::Relaxed),
        cpu_ticks(pid),
        time0.elapsed(),
    );
    writer.abort();
    reader.abort();
    let calls = (calls1 - calls0) as f64;
    let cpu_us = (cpu1 - cpu0) as f64 * 10_000.0;
    println!(
        "calls_per_s={:.0} server_cpu_us_per_call={:.2} idle_rss_kib={idle_rss}",
        calls / elapsed.as_secs_f64(),
        cpu_us / calls,
    );
}
