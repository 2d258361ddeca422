#!/usr/bin/env bash
# Byte-stream benchmarks, in one run:
# - our Unix-socket transport against our WebSocket, the same server and router
#   (bench/ws/src/bin/ours.rs with --ipc): 64 connections x 8 calls in flight (calls/s and
#   server CPU per call), and 10,000 idle connections (server RSS per connection);
# - our stdio server (ours --stdio, LSP framing) against vscode-jsonrpc's own Node server
#   doing the same `add` (bench/ws/add_server.js): server CPU per call, 16 calls in flight.
# Each scenario starts a fresh server pinned to core 0; the load client runs on core 1.
# Server CPU comes from /proc/PID/stat, memory from /proc/PID/status.
#
# Usage: scripts/bench-stream.sh [SECS] [ROUNDS]   (default 5 s per window, 3 rounds;
#        about two minutes a round). Prints each measurement, then the medians' ratios.
set -euo pipefail
cd "$(dirname "$0")/../bench/ws"
SECS=${1:-5}
ROUNDS=${2:-3}
cargo build --release -q --bins
[ -d ../../tests/node/node_modules/vscode-jsonrpc ] \
    || npm ci --prefix ../../tests/node --no-audit --no-fund --silent
BIN=target/release
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
SOCK_DIR=$(mktemp -d)
SOCK=$SOCK_DIR/ours.ipc
PORT=5211

PID=
start() { # starts ours with its Unix socket
    taskset -c 0 "$BIN/ours" "127.0.0.1:$PORT" --ipc "$SOCK" &
    PID=$!
    for _ in $(seq 100); do
        [ -S "$SOCK" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return
        sleep 0.05
    done
    echo "ours did not start" >&2
    exit 1
}
stop() { [ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }; PID=; }
trap 'stop; rm -rf "$SOCK_DIR"' EXIT

value() { # line key
    tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'
}

declare -A R
for round in $(seq "$ROUNDS"); do
    for scenario in ws-calls ipc-calls ws-idle ipc-idle; do
        start
        case $scenario in
            ws-calls) line=$(taskset -c 1 "$BIN/load" calls "127.0.0.1:$PORT" "$PID" 64 8 "$SECS") ;;
            ipc-calls) line=$(taskset -c 1 "$BIN/stream_load" ipc-calls "$SOCK" "$PID" 64 8 "$SECS") ;;
            ws-idle) line=$(taskset -c 1 "$BIN/load" idle "127.0.0.1:$PORT" "$PID" 10000) ;;
            ipc-idle) line=$(taskset -c 1 "$BIN/stream_load" ipc-idle "$SOCK" "$PID" 10000) ;;
        esac
        stop
        echo "round $round $scenario: $line"
        R[$scenario.$round]=$line
    done
    for server in ours vscode-jsonrpc; do
        if [ $server = ours ]; then cmd=("$BIN/ours" --stdio); else cmd=(node add_server.js); fi
        line=$(taskset -c 1 "$BIN/stream_load" stdio 16 "$SECS" -- taskset -c 0 "${cmd[@]}")
        echo "round $round stdio $server: $line"
        R[stdio-$server.$round]=$line
    done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
med() { # scenario key
    for round in $(seq "$ROUNDS"); do value "${R[$1.$round]}" "$2"; done | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
row() { # label scenario-a scenario-b key
    local a b
    a=$(med "$2" "$4")
    b=$(med "$3" "$4")
    echo "| $1 | $4 | $a | $b | $(ratio "$a" "$b") |"
}
echo
echo "Medians of $ROUNDS rounds:"
echo
echo "| scenario | figure | Unix socket | WebSocket | Unix socket / WebSocket |"
echo "|---|---|---|---|---|"
row "64 connections × 8 calls in flight" ipc-calls ws-calls server_cpu_us_per_call
row "64 connections × 8 calls in flight" ipc-calls ws-calls calls_per_s
row "10,000 idle connections" ipc-idle ws-idle rss_bytes_per_conn
echo
echo "| scenario | figure | ours (stdio) | vscode-jsonrpc 10 (Node) | ours / vscode-jsonrpc |"
echo "|---|---|---|---|---|"
row "stdio, LSP framing, 16 calls in flight" stdio-ours stdio-vscode-jsonrpc server_cpu_us_per_call
row "stdio, LSP framing, 16 calls in flight" stdio-ours stdio-vscode-jsonrpc calls_per_s
