#!/usr/bin/env bash
# HTTP load benchmark: wrk against the release calculator, the library's bare server and the
# floor servers. Every server is pinned to one core and wrk to the other. Then the bare server
# with a context read and a call layer against the bare server itself; and over TLS, the bare
# server with `Serve::tls` against the fixed floor behind tokio-rustls, on kept-alive
# connections and with a new connection (a full handshake) for each request.
#
# Each server is measured *at the same time as its floor*: both share the server core, each
# loaded by its own wrk, so whatever the machine does to one (a slower minute, a neighbour on
# the host) it does to the other, and their ratio holds still where consecutive runs drift by
# more than the differences measured. Prints, per pair, the median over the rounds of
# requests served and server CPU per request, each as a ratio to the floor.
#
# Usage: scripts/bench-http.sh [ROUNDS] [SECONDS] [CONNECTIONS]   (defaults: 5 5 64)
# Needs wrk (installed from Debian's packages when missing) and two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-5}
SECONDS_PER_RUN=${2:-5}
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
start context 5105 "$BIN/bench_floor" rpc-context 127.0.0.1:5105
# One ECDSA P-256 certificate for both TLS servers, from a CA of the run's own.
scripts/tls-certs.sh "$WORK"
start rpc-tls 5106 "$BIN/bench_floor" rpc-tls 127.0.0.1:5106 "$WORK/cert.pem" "$WORK/key.pem"
start fixed-tls 5107 "$BIN/bench_floor" fixed-tls 127.0.0.1:5107 "$WORK/cert.pem" "$WORK/key.pem"

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
# A new connection for every request: over TLS, a full handshake each.
lua "$WORK/close.lua" "$SINGLE"
echo 'wrk.headers["Connection"] = "close"' >>"$WORK/close.lua"

cpu_ticks() { # pid -> utime + stime in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

TICKS_PER_S=$(getconf CLK_TCK)

# pair NAME PORT PATH FLOOR FLOOR_PORT LUA: one round of NAME and its FLOOR under load together;
# appends "throughput_ratio cpu_ratio" to $WORK/NAME.LUA.results
pair() {
    local name=$1 port=$2 path=$3 floor=$4 floor_port=$5 script=$6 pid fpid before fbefore
    local scheme=http
    [[ $floor == *-tls ]] && scheme=https
    pid=$(cat "$WORK/$name.pid")
    fpid=$(cat "$WORK/$floor.pid")
    before=$(cpu_ticks "$pid")
    fbefore=$(cpu_ticks "$fpid")
    taskset -c "$CLIENT_CORE" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s "$WORK/$script.lua" \
        "$scheme://127.0.0.1:$port$path" >"$WORK/out.server" &
    local server_wrk=$!
    taskset -c "$CLIENT_CORE" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s "$WORK/$script.lua" \
        "$scheme://127.0.0.1:$floor_port/" >"$WORK/out.floor" &
    wait "$server_wrk" $!
    local ticks=$(($(cpu_ticks "$pid") - before)) fticks=$(($(cpu_ticks "$fpid") - fbefore))
    for out in "$WORK/out.server" "$WORK/out.floor"; do
        # A server's close after a `Connection: close` answer is no error.
        if grep -q "Non-2xx" "$out" || { [ "$script" != close ] && grep -q "Socket errors" "$out"; }; then
            echo "errors under load:" >&2
            cat "$out" >&2
            exit 1
        fi
    done
    local requests frequests
    requests=$(awk '/requests in/ {print $1}' "$WORK/out.server")
    frequests=$(awk '/requests in/ {print $1}' "$WORK/out.floor")
    awk -v n="$requests" -v fn="$frequests" -v t="$ticks" -v ft="$fticks" \
        'BEGIN { printf "%.4f %.4f\n", n / fn, (t / n) / (ft / fn) }' >>"$WORK/$name.$script.results"
    awk -v n="$requests" -v t="$ticks" -v hz="$TICKS_PER_S" -v s="$SECONDS_PER_RUN" \
        'BEGIN { printf "%.0f %.2f\n", n / s, t / hz * 1e6 / n }' >>"$WORK/$name.$script.absolute"
}

echo "rounds: $ROUNDS x ${SECONDS_PER_RUN}s, $CONNECTIONS connections per server, servers on core $SERVER_CORE, wrk on core $CLIENT_CORE"
PAIRS=("serde 5102 / fixed 5101 single" "rpc 5103 / fixed 5101 single"
    "calculator 5104 /rpc fixed 5101 single" "rpc 5103 / serde 5102 single"
    "rpc 5103 / serde 5102 batch" "calculator 5104 /rpc serde 5102 batch"
    "context 5105 / rpc 5103 single" "rpc-tls 5106 / fixed-tls 5107 single"
    "rpc-tls 5106 / fixed-tls 5107 close")
for round in $(seq "$ROUNDS"); do
    echo "round $round..." >&2
    for i in $(seq 0 $((${#PAIRS[@]} - 1))); do
        # shellcheck disable=SC2086 # word splitting intended
        set -- ${PAIRS[$i]}
        # The same server is in two pairs with different floors: keep their results apart.
        local_name=$1
        [ "$1 $4" = "rpc serde" ] && [ "$6" = single ] && local_name=rpc_vs_serde
        cp "$WORK/$1.pid" "$WORK/$local_name.pid" 2>/dev/null || true
        pair "$local_name" "$2" "$3" "$4" "$5" "$6"
    done
done

median() { # values on stdin, one a line
    sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
report() { # name script floor label
    local file="$WORK/$1.$2.results" abs="$WORK/$1.$2.absolute"
    awk -v label="$4" -v s="$2" -v f="$3" \
        -v rps="$(cut -d' ' -f1 "$abs" | median)" -v cpu="$(cut -d' ' -f2 "$abs" | median)" \
        -v rr="$(cut -d' ' -f1 "$file" | median)" -v cr="$(cut -d' ' -f2 "$file" | median)" \
        'BEGIN { printf "%-21s %-6s %8.0f req/s %6.2f us CPU/req   vs %-5s throughput %.2fx  CPU %.2fx\n", label, s, rps, cpu, f, rr, cr }'
}
echo
echo "medians of $ROUNDS rounds; each server loaded together with its floor (absolute figures are"
echo "for a shared core, so about half a lone server's)"
report serde single fixed "serde floor server"
report rpc single fixed "rpc-hyper, bare"
report calculator single fixed "calculator"
report rpc_vs_serde single serde "rpc-hyper, bare"
report rpc batch serde "rpc-hyper, bare"
report calculator batch serde "calculator"
report context single rpc "rpc-hyper + context"
report rpc-tls single fixed-tls "rpc-hyper, TLS"
report rpc-tls close fixed-tls "rpc-hyper, handshakes"
