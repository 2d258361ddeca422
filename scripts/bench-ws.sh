#!/usr/bin/env bash
# WebSocket benchmarks: our server (bench/ws/src/bin/ours.rs) against jsonrpsee 0.26's
# (theirs.rs), the same three methods (`add`, which feeds `subscribe_results`, and
# `subscribe_countdown`), driven by the same raw-frame load client (load.rs), in one run.
# Each scenario starts a fresh server, pinned to core 0; the client runs on core 1. Server CPU
# comes from /proc/PID/stat, memory from /proc/PID/status.
#
# Usage: scripts/bench-ws.sh [SECS]   (default 5 s per measured window; about 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/../bench/ws"
SECS=${1:-5}
cargo build --release -q --bins
BIN=target/release
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

PID=
start() { # binary port
    taskset -c 0 "$BIN/$1" "127.0.0.1:$2" &
    PID=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return
        sleep 0.05
    done
    echo "$1 did not start" >&2
    exit 1
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }
trap stop EXIT

value() { # line key
    tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'
}

declare -A R
for scenario in calls fanout idle stall flood; do
    for server in ours theirs; do
        port=$([ "$server" = ours ] && echo 5201 || echo 5202)
        start "$server" "$port"
        case $scenario in
            calls) args=(64 8 "$SECS") ;;      # 64 connections, 8 calls in flight each
            fanout) args=(100 10 8 "$SECS") ;; # 1,000 subscribers on 100 connections
            idle) args=(10000) ;;              # 10,000 idle connections
            stall) args=("$SECS") ;;           # a countdown from 10,000,000 at 0 ms, unread
            flood) args=("$SECS") ;;           # calls sent as fast as taken, never read
        esac
        line=$(taskset -c 1 "$BIN/load" "$scenario" "127.0.0.1:$port" "$PID" "${args[@]}")
        stop
        echo "$scenario $server: $line"
        R[$scenario.$server]=$line
    done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
get() { value "${R[$1.$2]}" "$3"; }
echo
echo "| scenario | figure | ours | jsonrpsee 0.26 | ours / jsonrpsee |"
echo "|---|---|---|---|---|"
for k in calls_per_s server_cpu_us_per_call; do
    echo "| 64 connections × 8 calls in flight | $k | $(get calls ours $k) | $(get calls theirs $k) | $(ratio "$(get calls ours $k)" "$(get calls theirs $k)") |"
done
for k in delivered_per_s server_cpu_us_per_delivered; do
    echo "| broadcast to 1,000 subscribers on 100 connections | $k | $(get fanout ours $k) | $(get fanout theirs $k) | $(ratio "$(get fanout ours $k)" "$(get fanout theirs $k)") |"
done
k=rss_bytes_per_conn
echo "| 10,000 idle connections | server RSS bytes per connection | $(get idle ours $k) | $(get idle theirs $k) | $(ratio "$(get idle ours $k)" "$(get idle theirs $k)") |"
for s in stall flood; do
    label=$([ $s = stall ] && echo "a countdown subscriber that stops reading" || echo "a client that sends calls and never reads")
    echo "| $label | server RSS growth, KiB | $(get $s ours rss_growth_kib) | $(get $s theirs rss_growth_kib) | |"
    echo "| $label | another client's call latency µs, before → during (median, p99) | $(get $s ours latency_us_before) → $(get $s ours latency_us_during) | $(get $s theirs latency_us_before) → $(get $s theirs latency_us_during) | |"
done
