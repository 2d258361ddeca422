#!/usr/bin/env bash
# MCP over stdio, in one run: our server (bench/mcp/src/bin/ours.rs: rpc-core's `mcp` and
# rpc-hyper's stdio, the `add` tool as a plain `#[rpc_method]`) against rmcp 3.11's, the
# official Rust SDK, on its default `stdio()` and on its `stdio_pipes()`
# (bench/mcp/src/bin/rmcp_server.rs), and a hand-written serial loop of serde_json over
# blocking stdin and stdout, the floor (bench/mcp/src/bin/serial.rs). One driver
# (bench/mcp/src/bin/driver.rs) launches each as a host does, shakes hands, then calls `add`:
# one at a time (p50 and p99 latency; the driver and the server share core 1, as a waiting
# host and its server may), and, in a fresh session, 64 in flight (calls/s, and the
# server's CPU per call from its /proc stat; the server on core 0, the driver on core 1).
# Servers alternate, ROUNDS times; the figures are the medians. Also: each server's memory once
# initialized (VmRSS), and the size of each binary and of the example, stripped.
#
# Usage: scripts/bench-mcp.sh [SECS] [ROUNDS]   (defaults 5 s per window and 3 rounds; about
# three minutes, plus building rmcp the first time)
set -euo pipefail
cd "$(dirname "$0")/../bench/mcp"
SECS=${1:-5}
ROUNDS=${2:-3}
cargo build --release -q --bins
BIN=target/release
declare -A SERVERS=(
    [ours]="$BIN/ours"
    [rmcp_stdio]="$BIN/rmcp_server"
    [rmcp_pipes]="$BIN/rmcp_server pipes"
    [serial]="$BIN/serial"
)
ORDER=(ours rmcp_stdio rmcp_pipes serial)
declare -A RESULTS
for round in $(seq "$ROUNDS"); do
    for name in "${ORDER[@]}"; do
        # shellcheck disable=SC2086 # the command and its argument
        # shellcheck disable=SC2086 # the command and its argument
        one=$(taskset -c 1 "$BIN/driver" "$SECS" 1 taskset -c 1 ${SERVERS[$name]})
        line=$(taskset -c 1 "$BIN/driver" "$SECS" 64 taskset -c 0 ${SERVERS[$name]})
        echo "round $round $name: $one $line"
        RESULTS[$name]+="$one $line"$'\n'
    done
done

value() { # lines key -> the values of key, one per line
    tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'
}
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo
printf '| figure (median of %s) | ours | rmcp stdio() | rmcp stdio_pipes() | serial loop | ours / rmcp stdio() | ours / rmcp stdio_pipes() |\n' "$ROUNDS"
echo '|---|---|---|---|---|---|---|'
for key in seq_p50_us seq_p99_us calls_per_s server_cpu_us_per_call idle_rss_kib; do
    declare -A M=()
    for name in "${ORDER[@]}"; do
        M[$name]=$(value "${RESULTS[$name]}" "$key" | median)
    done
    printf '| %s | %s | %s | %s | %s | %.2fx | %.2fx |\n' "$key" "${M[ours]}" "${M[rmcp_stdio]}" \
        "${M[rmcp_pipes]}" "${M[serial]}" \
        "$(echo "${M[ours]} / ${M[rmcp_stdio]}" | bc -l)" "$(echo "${M[ours]} / ${M[rmcp_pipes]}" | bc -l)"
done
STRIP_DIR=$(mktemp -d)
trap 'rm -rf "$STRIP_DIR"' EXIT
for bin in ours rmcp_server serial; do
    strip -o "$STRIP_DIR/$bin" "$BIN/$bin"
done
ours_size=$(stat -c %s "$STRIP_DIR/ours")
rmcp_size=$(stat -c %s "$STRIP_DIR/rmcp_server")
printf '| binary, stripped (bytes) | %s | %s | (the same) | %s | %.2fx | |\n' "$ours_size" "$rmcp_size" \
    "$(stat -c %s "$STRIP_DIR/serial")" "$(echo "$ours_size / $rmcp_size" | bc -l)"
# The example itself: the calculator's tools, countdown and greet, its logging.
(cd ../.. && cargo build --release -q -p rpc-examples --example mcp)
strip -o "$STRIP_DIR/example" ../../target/release/examples/mcp
example_size=$(stat -c %s "$STRIP_DIR/example")
printf '| the example (examples/mcp), stripped (bytes) | %s | %s | | | %.2fx | |\n' "$example_size" \
    "$rmcp_size" "$(echo "$example_size / $rmcp_size" | bc -l)"
