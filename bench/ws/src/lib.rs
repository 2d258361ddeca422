//! What the load clients share: the server's CPU and memory from `/proc`, and a measured
//! window.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The server's CPU time so far (user + system), in microseconds.
pub fn cpu_us(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server runs");
    // After the command's closing parenthesis: fields 3.. ; utime and stime are 14 and 15.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks * 10_000 // 100 ticks per second
}

/// The server's resident memory, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server runs");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Counts `counter` and the server's CPU over `secs`, after a second of warm-up.
pub async fn window(pid: u32, counter: &AtomicU64, secs: u64) -> (f64, f64) {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (count0, cpu0, t0) = (counter.load(Ordering::Relaxed), cpu_us(pid), Instant::now());
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let (count1, cpu1) = (counter.load(Ordering::Relaxed), cpu_us(pid));
    let count = (count1 - count0) as f64;
    (count / t0.elapsed().as_secs_f64(), (cpu1 - cpu0) as f64 / count)
}

