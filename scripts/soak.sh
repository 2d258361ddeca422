#!/usr/bin/env bash
# Soak: mixed valid and invalid load against the release calculator, printing every second
# the requests served, errors, and the server's resident memory, so that a leak shows as a
# climb. Not part of CI.
#
# Usage: scripts/soak.sh [SECONDS] [CONNECTIONS]   (defaults: 600 64)
# Needs wrk (installed from Debian's packages when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL=${1:-600}
CONNECTIONS=${2:-64}
PORT=5401

if ! command -v wrk >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null || { echo "wrk is needed" >&2; exit 1; }
fi
cargo build --release -q -p rpc-examples --example calculator
WORK=$(mktemp -d)
target/release/examples/calculator --addr "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
sleep 0.5

# Each connection cycles through valid calls, batches, and every kind of bad request.
cat >"$WORK/mixed.lua" <<'LUA'
local bodies = {
  '{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":3},"id":1}',
  '{"jsonrpc":"2.0","method":"divide","params":[6,3],"id":"x"}',
  '[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"multiply","params":[3,4]}]',
  '{"jsonrpc":"2.0","method":"divide","params":[1,0],"id":2}',
  '{"jsonrpc":"2.0","method":"add","params":{"a":"2","b":3},"id":3}',
  '{"jsonrpc":"2.0","method":"nope","id":4}',
  '{"jsonrpc":"2.0","method":"add","params":[9223372036854775807,1],"id":5}',
  '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
  '[]',
  '[1,2,3]',
  '{"jsonrpc":"1.0","method":"add","id":6}',
  '{"jsonrpc":"2.0","method":"add","params":[1,2]}',
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/rpc", {["Content-Type"] = "application/json"}, bodies[(i % #bodies) + 1])
end
LUA

rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
INTERVAL=$(( SECONDS_TOTAL < 30 ? SECONDS_TOTAL : 30 ))
echo "elapsed  requests  non-2xx  socket errors  server RSS (KiB)"
echo "0 s      -         -        -              $(rss)"
elapsed=0 total=0
while [ "$elapsed" -lt "$SECONDS_TOTAL" ]; do
    out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${INTERVAL}s" -s "$WORK/mixed.lua" "http://127.0.0.1:$PORT/rpc" 2>&1)
    elapsed=$((elapsed + INTERVAL))
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    sockets=$(echo "$out" | awk -F'Socket errors: ' '/Socket errors/ {print $2}')
    total=$((total + requests))
    printf '%-8s %-9s %-8s %-14s %s\n' "$elapsed s" "$requests" "${non2xx:-0}" "${sockets:-none}" "$(rss)"
done
echo "served $total requests in $elapsed s; final server RSS $(rss) KiB"
