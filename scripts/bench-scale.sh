#!/usr/bin/env bash
# Cross-instance fan-out through Redis against the same fan-out within one instance:
# notifications delivered per second to SUBSCRIBERS WebSocket subscribers, and CPU per
# delivered notification (rpc-redis/examples/fanout.rs: servers and clients in one process,
# redis-server's own CPU not counted). Rounds alternate the two; prints the medians and their
# ratios (redis / local).
#
# Usage: scripts/bench-scale.sh [ROUNDS] [SUBSCRIBERS] [ITEMS]   (defaults: 3 1000 2000)
# Needs redis-server (Debian's package: apt-get install redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SUBSCRIBERS=${2:-1000}
ITEMS=${3:-2000}
command -v redis-server >/dev/null || { echo "redis-server is needed: apt-get install redis-server" >&2; exit 1; }
cargo build --release -q -p rpc-redis --example fanout
BIN=target/release/examples/fanout
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
REDIS=$!
trap 'kill "$REDIS" 2>/dev/null; wait "$REDIS" 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
URL="redis://127.0.0.1:$PORT/"
OUT=$(mktemp)
for round in $(seq "$ROUNDS"); do
    echo "round $round..." >&2
    for mode in local redis; do
        "$BIN" "$mode" "$URL" "$SUBSCRIBERS" "$ITEMS" >>"$OUT"
    done
done
python3 - "$OUT" "$SUBSCRIBERS" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def median(mode, column):
    return statistics.median(float(r[column]) for r in rows if r[0] == mode)
rate = {m: median(m, 1) for m in ("local", "redis")}
cpu = {m: median(m, 3) for m in ("local", "redis")}
print(f"{sys.argv[2]} subscribers, medians of {len(rows) // 2} rounds")
for m in ("local", "redis"):
    print(f"{m:6} {rate[m]:12,.0f} notifications/s {cpu[m]:8.3f} us CPU/notification")
print(f"redis/local: throughput {rate['redis'] / rate['local']:.2f}x, CPU per notification {cpu['redis'] / cpu['local']:.2f}x")
PY
rm -f "$OUT"
