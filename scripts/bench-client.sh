#!/usr/bin/env bash
# Client benchmarks: our client (rpc-hyper's `client` feature) against jsonrpsee 0.26's HTTP,
# HTTPS and WebSocket clients (bench/ws/src/bin/clients.rs), each calling `add(2, 3)` on the
# same server (our `ours`, serving HTTP POST and the WebSocket upgrade on `/`; a second one
# serving TLS with a certificate of the run's own CA), in one run. Over HTTPS both clients
# are rustls on ring, trusting that CA. One server for the
# whole run, pinned to core 0; each client runs alone on core 1: one client, 16 tasks calling
# in a loop on a single-threaded runtime. Client CPU (utime + stime) comes from the client's
# own /proc/self/stat, after a 1 s warm-up. Ours and theirs alternate, ROUNDS times per
# transport; the figures are the medians.
#
# Usage: scripts/bench-client.sh [SECS] [ROUNDS]   (defaults 5 s per measured window and 3
# rounds; about 1 minute)
set -euo pipefail
cd "$(dirname "$0")/../bench/ws"
SECS=${1:-5}
ROUNDS=${2:-3}
CONCURRENCY=16
PORT=5301
cargo build --release -q --bins
BIN=target/release

TLS_PORT=$((PORT + 1))
WORK=$(mktemp -d)
PIDS=()
stop() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap stop EXIT
../../scripts/tls-certs.sh "$WORK"
export BENCH_CA="$WORK/ca.pem"
taskset -c 0 "$BIN/ours" "127.0.0.1:$PORT" &
PIDS+=("$!")
taskset -c 0 "$BIN/ours" "127.0.0.1:$TLS_PORT" --tls "$WORK/cert.pem" "$WORK/key.pem" &
PIDS+=("$!")
for port in "$PORT" "$TLS_PORT"; do
    up=
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            up=1
            break
        fi
        sleep 0.05
    done
    [ -n "$up" ] || { echo "ours did not start on $port" >&2; exit 1; }
done

value() { # line key
    tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'
}
median() { # numbers...
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }

declare -A CALLS CPU
url() { # transport
    case $1 in
        https) echo "https://localhost:$TLS_PORT/" ;;
        *) echo "$1://127.0.0.1:$PORT/" ;;
    esac
}
for transport in http https ws; do
    for round in $(seq "$ROUNDS"); do
        for client in ours theirs; do
            line=$(taskset -c 1 "$BIN/clients" "$client-$transport" \
                "$(url "$transport")" "$CONCURRENCY" "$SECS")
            echo "$transport round $round $client: $line"
            CALLS[$transport.$client]+=" $(value "$line" calls_per_s)"
            CPU[$transport.$client]+=" $(value "$line" client_cpu_us_per_call)"
        done
    done
done

echo
echo "| transport | figure (median of $ROUNDS) | ours | jsonrpsee 0.26 | ours / jsonrpsee |"
echo "|---|---|---|---|---|"
for transport in http https ws; do
    # shellcheck disable=SC2086 # the lists split on purpose
    {
        ours_calls=$(median ${CALLS[$transport.ours]})
        theirs_calls=$(median ${CALLS[$transport.theirs]})
        ours_cpu=$(median ${CPU[$transport.ours]})
        theirs_cpu=$(median ${CPU[$transport.theirs]})
    }
    echo "| $transport | calls_per_s (higher is better) | $ours_calls | $theirs_calls | $(ratio "$ours_calls" "$theirs_calls") |"
    echo "| $transport | client_cpu_us_per_call (lower is better) | $ours_cpu | $theirs_cpu | $(ratio "$ours_cpu" "$theirs_cpu") |"
done
