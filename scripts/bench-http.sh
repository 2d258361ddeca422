#!/usr/bin/env bash
# HTTP load benchmark: wrk against the release calculator, the library's bare server and the
# floor servers, in interleaved rounds, each server pinned to one core and wrk to the other.
# Prints requests per second, server CPU per request, and the ratios to the floors.
#
# Usage: scripts/bench-http.sh [ROUNDS] [SECONDS] [CONNECTIONS]   (defaults: 3 10 64)
# Needs wrk (installed from Debian's packages when missing) and two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-10}
CONNECTIONS=${3:-64}
SERVER_CORE=0
CLIENT_CORE=1

if ! command -v wrk >/dev/null; then
    echo "installing wrk..." >&2
    (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null || {
        echo "wrk is needed: apt-get install wrk" >&2
        exit 1
    }
fi

cargo build --release -q -p rpc-examples --example calculator --example bench_floor
BIN=target/release/examples
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Every server runs one tokio worker, on the server core.
export TOKIO_WORKER_THREADS=1
start() { # name port command...
    local name=$1 port=$2
    shift 2
    taskset -c "$SERVER_CORE" "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=("$!")
    echo "$!" >"$WORK/$name.pid"
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "$name did not start" >&2
    exit 1
}
start fixed 5101 "$BIN/bench_floor" fixed 127.0.0.1:5101
start serde 5102 "$BIN/bench_floor" serde 127.0.0.1:5102
start rpc 5103 "$BIN/bench_floor" rpc 127.0.0.1:5103
start calculator 5104 "$BIN/calculator" --addr 127.0.0.1:5104

SINGLE='{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}'
BATCH="[$(for i in $(seq 0 99); do
    printf '{"jsonrpc":"2.0","method":"add","params":{"a":%d,"b":3},"id":%d}\n' "$i" "$i"
done | paste -sd, -)]"
lua() { # file body
    cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [=[$2]=]
LUA
}
lua "$WORK/single.lua" "$SINGLE"
lua "$WORK/batch.lua" "$BATCH"

cpu_ticks() { # pid -> utime + stime in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# run NAME PORT PATH LUA -> appends "rps cpu_us_per_request" to $WORK/NAME.LUA.results
run() {
    local name=$1 port=$2 path=$3 script=$4 pid before after out requests rps
    pid=$(cat "$WORK/$name.pid")
    before=$(cpu_ticks "$pid")
    out=$(taskset -c "$CLIENT_CORE" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s "$WORK/$script.lua" \
        "http://127.0.0.1:$port$path")
    after=$(cpu_ticks "$pid")
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    if echo "$out" | grep -q "Non-2xx"; then
        echo "$name answered errors:" >&2
        echo "$out" >&2
        exit 1
    fi
    local ticks_per_s
    ticks_per_s=$(getconf CLK_TCK)
    awk -v rps="$rps" -v t="$((after - before))" -v n="$requests" -v hz="$ticks_per_s" \
        'BEGIN { printf "%s %.3f\n", rps, t / hz * 1e6 / n }' >>"$WORK/$name.$script.results"
}

echo "rounds: $ROUNDS x ${SECONDS_PER_RUN}s, $CONNECTIONS connections, server on core $SERVER_CORE, wrk on core $CLIENT_CORE"
RUNS=("fixed 5101 / single" "serde 5102 / single" "rpc 5103 / single" "calculator 5104 /rpc single"
    "serde 5102 / batch" "rpc 5103 / batch" "calculator 5104 /rpc batch")
for round in $(seq "$ROUNDS"); do
    echo "round $round..." >&2
    # Each round starts at a different server, so no server always runs first.
    for i in $(seq 0 $((${#RUNS[@]} - 1))); do
        # shellcheck disable=SC2086 # word splitting intended
        run ${RUNS[$(((i + round) % ${#RUNS[@]}))]}
    done
done

median() { # values on stdin, one a line
    sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
# Ratios are taken within each round (the servers measured seconds apart), then the median
# across rounds: this machine's speed drifts between minutes more than the differences measured.
report() { # name script floor
    local file="$WORK/$1.$2.results" floor="$WORK/$3.$2.results" rps cpu rps_ratio cpu_ratio
    rps=$(cut -d' ' -f1 "$file" | median)
    cpu=$(cut -d' ' -f2 "$file" | median)
    rps_ratio=$(paste -d' ' "$file" "$floor" | awk '{print $1 / $3}' | median)
    cpu_ratio=$(paste -d' ' "$file" "$floor" | awk '{print $2 / $4}' | median)
    awk -v n="$1" -v s="$2" -v r="$rps" -v c="$cpu" -v rr="$rps_ratio" -v cr="$cpu_ratio" -v f="$3" \
        'BEGIN { printf "%-11s %-6s %10.0f req/s  %7.2f us CPU/req  throughput %.2fx %s  CPU %.2fx %s\n", n, s, r, c, rr, f, cr, f }'
}
echo
echo "medians of $ROUNDS rounds (ratios: the median of each round's ratio)"
report fixed single fixed
report serde single fixed
report rpc single fixed
report calculator single fixed
report serde batch serde
report rpc batch serde
report calculator batch serde
