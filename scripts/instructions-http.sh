#!/usr/bin/env bash
# User-space instructions per HTTP request, counted by callgrind (deterministic enough to gate
# CI on): the library's server (`rpc_hyper::serve` with an `add` method, rpc-hyper's default
# features) against the serde floor server (hyper by hand, serde into borrowed types, the same
# answer) and, for scale, the fixed floor (hyper answering a fixed reply). All from
# `bench/http`, built in release; one tokio worker; one kept-alive connection carrying one
# request at a time: `add` by name, and a batch of 100 of them.
#
# Each server runs twice, for N1 and for N2 requests; (I(N2) - I(N1)) / (N2 - N1) is what one
# request costs, start-up, the readiness probe and the exit cancelling out.
#
# Usage: scripts/instructions-http.sh    (prints the counts and the ratios)
#        scripts/instructions-http.sh --check [SINGLE [BATCH]]
#            (the same; fails when the library's server costs over SINGLE times the serde
#            floor's for one call, or over BATCH times for a batch; both default to 1.02,
#            BATCH to SINGLE)
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_SINGLE=""
MAX_BATCH=""
if [ "${1:-}" = --check ]; then
    MAX_SINGLE=${2:-1.02}
    MAX_BATCH=${3:-$MAX_SINGLE}
fi
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
(cd bench/http && cargo build --release -q --locked)
BIN=bench/http/target/release/http-floor
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cat >"$WORK/client.py" <<'PY'
import socket, sys
port, shape, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
call = '{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":%d}'
calls = 1 if shape == "single" else 100
body = call % 1 if calls == 1 else "[" + ",".join(call % i for i in range(1, 101)) + "]"
request = ("POST / HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
           "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode()
conn = socket.create_connection(("127.0.0.1", port))
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""
for _ in range(n):
    conn.sendall(request)
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode()
            length = next(int(line.split(":", 1)[1]) for line in head.split("\r\n")
                          if line.lower().startswith("content-length:"))
            if len(buf) >= end + 4 + length:
                answer = buf[end + 4:end + 4 + length]
                buf = buf[end + 4 + length:]
                assert head.startswith("HTTP/1.1 200"), head
                assert answer.count(b'"result":5') == calls or sys.argv[4:] == ["fixed"], answer
                break
        chunk = conn.recv(1 << 16)
        assert chunk, "the server closed the connection"
        buf += chunk
conn.close()
PY

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

count() { # mode shape n -> instructions
    local port pid
    port=$(free_port)
    TOKIO_WORKER_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$BIN" "$1" "127.0.0.1:$port" >/dev/null 2>"$WORK/valgrind.log" &
    pid=$!
    for _ in $(seq 400); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
        sleep 0.05
    done
    python3 "$WORK/client.py" "$port" "$2" "$3" "$1"
    kill -INT "$pid"
    wait "$pid"
    awk '/Collected :/ {print $4}' "$WORK/valgrind.log"
}

per_request() { # mode shape n1 n2
    local one two
    one=$(count "$1" "$2" "$3")
    two=$(count "$1" "$2" "$4")
    echo $(( (two - one) / ($4 - $3) ))
}

printf '%-8s %9s %9s %9s %9s %10s\n' shape fixed serde rpc rpc/fixed rpc/serde
failed=0
for shape in single batch; do
    if [ "$shape" = single ]; then n1=100; n2=600; MAX=$MAX_SINGLE; else n1=10; n2=60; MAX=$MAX_BATCH; fi
    fixed=$(per_request fixed "$shape" "$n1" "$n2")
    serde=$(per_request serde "$shape" "$n1" "$n2")
    rpc=$(per_request rpc "$shape" "$n1" "$n2")
    ratio=$(awk -v r="$rpc" -v s="$serde" 'BEGIN { printf "%.3f", r / s }')
    awk -v sh="$shape" -v f="$fixed" -v s="$serde" -v r="$rpc" -v q="$ratio" \
        'BEGIN { printf "%-8s %9d %9d %9d %9.3f %10s\n", sh, f, s, r, r / f, q }'
    if [ -n "$MAX" ] && awk -v q="$ratio" -v m="$MAX" 'BEGIN { exit !(q > m) }'; then
        echo "the library's server costs ${ratio}x the serde floor's for $shape requests (at most ${MAX}x)" >&2
        failed=1
    fi
done
echo "(instructions per HTTP request; a batch request holds 100 calls; fixed answers a fixed reply to either)"
exit "$failed"
