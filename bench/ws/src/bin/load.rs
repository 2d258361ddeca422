//! The WebSocket load client of the benchmarks: raw frames over TCP (prepared once, parsed
//! without copying), so that the client costs little beside the server it measures. Server
//! CPU is read from `/proc/PID/stat`, its memory from `/proc/PID/status`.
//!
//! Usage:
//!   load calls  ADDR PID CONNS IN_FLIGHT SECS   calls/s and server CPU per call
//!   load fanout ADDR PID CONNS SUBS WINDOW SECS delivered notifications/s, CPU per one
//!   load idle   ADDR PID CONNS                  server RSS per idle connection
//!   load stall  ADDR PID SECS                   a subscriber that stops reading
//!   load flood  ADDR PID SECS                   a client that sends calls and never reads
//!
//! Each prints one line of `key=value` pairs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use rpc_bench_ws::{rss_kib, window};

const ADD: &[u8] = br#"{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}"#;
const SUBSCRIBE_RESULTS: &[u8] = br#"{"jsonrpc":"2.0","method":"subscribe_results","id":2}"#;

/// A masked client text frame (a zero mask leaves the payload as it is).
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x81];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len @ 126..=65535 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(payload);
    frame
}

async fn open(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let head = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.expect("handshake");
        answer.push(byte[0]);
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    stream
}

/// Reads server frames; counts text frames, hands each payload to `seen`.
struct Frames {
    buf: Vec<u8>,
    len: usize,
}

impl Frames {
    fn new() -> Self {
        Self {
            buf: vec![0; 1 << 16],
            len: 0,
        }
    }

    /// Reads once; returns how many text frames were completed, or `None` at the end.
    async fn read(
        &mut self,
        stream: &mut (impl AsyncReadExt + Unpin),
        mut seen: impl FnMut(&[u8]),
    ) -> Option<u64> {
        if self.len == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = stream.read(&mut self.buf[self.len..]).await.ok()?;
        if n == 0 {
            return None;
        }
        self.len += n;
        let mut at = 0;
        let mut texts = 0;
        loop {
            let rest = &self.buf[at..self.len];
            if rest.len() < 2 {
                break;
            }
            let opcode = rest[0] & 0x0f;
            let (len, head) = match rest[1] & 0x7f {
                126 if rest.len() >= 4 => (usize::from(u16::from_be_bytes([rest[2], rest[3]])), 4),
                127 if rest.len() >= 10 => {
                    (u64::from_be_bytes(rest[2..10].try_into().unwrap()) as usize, 10)
                }
                126 | 127 => break,
                len => (usize::from(len), 2),
            };
            if rest.len() < head + len {
                break;
            }
            match opcode {
                0x1 => {
                    texts += 1;
                    seen(&rest[head..head + len]);
                }
                0x8 => return None,
                _ => {}
            }
            at += head + len;
        }
        self.buf.copy_within(at..self.len, 0);
        self.len -= at;
        Some(texts)
    }
}

async fn calls(addr: &str, pid: u32, conns: usize, in_flight: usize, secs: u64) {
    let answered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let call = frame(ADD);
    let burst: Arc<Vec<u8>> = Arc::new(call.repeat(in_flight));
    for _ in 0..conns {
        let mut stream = open(addr).await;
        let (answered, stop, burst, one) = (answered.clone(), stop.clone(), burst.clone(), call.len());
        tokio::spawn(async move {
            let mut frames = Frames::new();
            stream.write_all(&burst).await.unwrap();
            let mut first = true;
            while !stop.load(Ordering::Relaxed) {
                let Some(n) = frames
                    .read(&mut stream, |payload| {
                        if first {
                            assert!(payload.windows(10).any(|w| w == br#""result":5"#), "{}", String::from_utf8_lossy(payload));
                            first = false;
                        }
                    })
                    .await
                else {
                    eprintln!("warning: the server closed a connection; it counts no more");
                    return;
                };
                answered.fetch_add(n, Ordering::Relaxed);
                stream.write_all(&burst[..n as usize * one]).await.unwrap();
            }
        });
    }
    let (rate, cpu) = window(pid, &answered, secs).await;
    stop.store(true, Ordering::Relaxed);
    println!("calls_per_s={rate:.0} server_cpu_us_per_call={cpu:.3}");
}

async fn fanout(addr: &str, pid: u32, conns: usize, subs: usize, window_len: u64, secs: u64) {
    let delivered = Arc::new(AtomicU64::new(0));
    let progress = Arc::new(Notify::new());
    let subscribe = frame(SUBSCRIBE_RESULTS).repeat(subs);
    let mut readers: Vec<(TcpStream, Frames)> = Vec::new();
    for _ in 0..conns {
        let mut stream = open(addr).await;
        stream.write_all(&subscribe).await.unwrap();
        let mut frames = Frames::new();
        let mut answers = 0;
        while answers < subs as u64 {
            answers += frames.read(&mut stream, |_| {}).await.expect("subscribed");
        }
        readers.push((stream, frames));
    }
    for (mut stream, mut frames) in readers {
        let (delivered, progress) = (delivered.clone(), progress.clone());
        tokio::spawn(async move {
            while let Some(n) = frames
                .read(&mut stream, |payload| {
                    debug_assert!(payload.windows(17).any(|w| w == br#""method":"results""#));
                })
                .await
            {
                delivered.fetch_add(n, Ordering::Relaxed);
                progress.notify_one();
            }
        });
    }
    // The producer: `add` calls, at most `window_len` broadcasts ahead of the deliveries.
    let fan = (conns * subs) as u64;
    let producer = open(addr).await;
    let (mut read, mut write) = producer.into_split();
    tokio::spawn(async move {
        let mut frames = Frames::new();
        while frames.read(&mut read, |_| {}).await.is_some() {}
        drop::<OwnedReadHalf>(read);
    });
    {
        let (delivered, progress) = (delivered.clone(), progress.clone());
        tokio::spawn(async move {
            let call = frame(ADD);
            let mut sent = 0u64;
            loop {
                while sent >= window_len && delivered.load(Ordering::Relaxed) < (sent - window_len) * fan {
                    progress.notified().await;
                }
                if write.write_all(&call).await.is_err() {
                    return;
                }
                sent += 1;
            }
        });
    }
    let (rate, cpu) = window(pid, &delivered, secs).await;
    println!("delivered_per_s={rate:.0} server_cpu_us_per_delivered={cpu:.4}");
}

async fn idle(addr: &str, pid: u32, conns: usize) {
    let before = rss_kib(pid);
    let mut open_ones = Vec::with_capacity(conns);
    for _ in 0..conns {
        open_ones.push(open(addr).await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    let per = (after.saturating_sub(before)) as f64 * 1024.0 / conns as f64;
    println!("idle_conns={conns} rss_before_kib={before} rss_after_kib={after} rss_bytes_per_conn={per:.0}");
}

/// Sequential calls on `stream` for `secs`: median and 99th percentile latency, in µs.
async fn probe(stream: &mut TcpStream, frames: &mut Frames, secs: f64) -> (u128, u128) {
    let call = frame(ADD);
    let mut latencies = Vec::new();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < secs {
        let t = Instant::now();
        stream.write_all(&call).await.unwrap();
        let mut got = 0;
        while got == 0 {
            got = frames.read(stream, |_| {}).await.expect("the probe's answer");
        }
        latencies.push(t.elapsed().as_micros());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    latencies.sort_unstable();
    (latencies[latencies.len() / 2], latencies[latencies.len() * 99 / 100])
}

async fn stall(addr: &str, pid: u32, secs: u64) {
    let mut prober = open(addr).await;
    let mut frames = Frames::new();
    let (median0, p99_0) = probe(&mut prober, &mut frames, 2.0).await;
    let rss0 = rss_kib(pid);
    // A countdown from ten million as fast as it goes, never read.
    let mut stuck = open(addr).await;
    let subscribe = br#"{"jsonrpc":"2.0","method":"subscribe_countdown","params":[10000000,0],"id":1}"#;
    stuck.write_all(&frame(subscribe)).await.unwrap();
    let peak = Arc::new(AtomicU64::new(rss0));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let (median1, p99_1) = probe(&mut prober, &mut frames, secs as f64).await;
    sampler.abort();
    let growth = peak.load(Ordering::Relaxed).saturating_sub(rss0);
    println!(
        "rss_growth_kib={growth} latency_us_before=median:{median0},p99:{p99_0} latency_us_during=median:{median1},p99:{p99_1}"
    );
    drop(stuck);
}

async fn flood(addr: &str, pid: u32, secs: u64) {
    let mut prober = open(addr).await;
    let mut frames = Frames::new();
    let (median0, p99_0) = probe(&mut prober, &mut frames, 2.0).await;
    let rss0 = rss_kib(pid);
    let peak = Arc::new(AtomicU64::new(rss0));
    let sent = Arc::new(AtomicU64::new(0));
    // Calls written as fast as the server takes them; no answer is ever read.
    let flooder = {
        let (addr, sent) = (addr.to_owned(), sent.clone());
        tokio::spawn(async move {
            let mut stream = open(&addr).await;
            let burst = frame(ADD).repeat(256);
            while stream.write_all(&burst).await.is_ok() {
                sent.fetch_add(256, Ordering::Relaxed);
            }
        })
    };
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let (median1, p99_1) = probe(&mut prober, &mut frames, secs as f64).await;
    sampler.abort();
    flooder.abort();
    let growth = peak.load(Ordering::Relaxed).saturating_sub(rss0);
    println!(
        "rss_growth_kib={growth} calls_taken={} latency_us_before=median:{median0},p99:{p99_0} latency_us_during=median:{median1},p99:{p99_1}",
        sent.load(Ordering::Relaxed)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> &str { args.get(i).map(String::as_str).expect("see the usage in load.rs") };
    let num = |i: usize| -> u64 { arg(i).parse().expect("a number") };
    let (addr, pid) = (arg(1), num(2) as u32);
    match arg(0) {
        "calls" => calls(addr, pid, num(3) as usize, num(4) as usize, num(5)).await,
        "fanout" => fanout(addr, pid, num(3) as usize, num(4) as usize, num(5), num(6)).await,
        "idle" => idle(addr, pid, num(3) as usize).await,
        "stall" => stall(addr, pid, num(3)).await,
        "flood" => flood(addr, pid, num(3)).await,
        other => panic!("unknown mode {other}"),
    }
}
