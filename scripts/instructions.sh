#!/usr/bin/env bash
# Instructions per call, counted by callgrind (immune to machine noise): the dispatcher with a
# hand-written and a macro-generated `add`, against the serde floor; and the macro's `add`
# reading one extension from the call's context, and the macro's `add` behind one call layer
# that does nothing, and behind one async call layer that does nothing, each against the plain
# macro `add`.
#
# Usage: scripts/instructions.sh [N]   (default 20000 calls; batches run N/100 times)
#        FEATURES=openrpc scripts/instructions.sh   (the same, with rpc-core's features: with
#        `openrpc`, every router also serves `rpc.discover`)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
cargo build --release -q -p rpc-core --features "${FEATURES:-}" --example instructions
BIN=target/release/examples/instructions

count() { # who shape n -> instructions
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$1" "$2" "$3" 2>&1 \
        | awk '/Collected :/ {print $4}'
}
per_call() { # who shape n
    local base full
    base=$(count "$1" "$2" 0)
    full=$(count "$1" "$2" "$3")
    echo $(( (full - base) / $3 ))
}

printf '%-11s %9s %9s %9s %9s %9s %9s %8s %8s %9s %11s %11s\n' shape floor hand macro ext \
    layer async hand/fl macro/fl ext/macro layer/macro async/macro
for shape in named positional batch; do
    n=$N
    [ "$shape" = batch ] && n=$((N / 100))
    floor=$(per_call floor "$shape" "$n")
    hand=$(per_call hand "$shape" "$n")
    macro=$(per_call macro "$shape" "$n")
    ext=$(per_call ext "$shape" "$n")
    layer=$(per_call layer "$shape" "$n")
    async=$(per_call async "$shape" "$n")
    awk -v s="$shape" -v f="$floor" -v h="$hand" -v m="$macro" -v e="$ext" -v l="$layer" -v a="$async" \
        'BEGIN { printf "%-11s %9d %9d %9d %9d %9d %9d %8.2f %8.2f %9.3f %11.3f %11.3f\n", s, f, h, m, e, l, a, h / f, m / f, e / m, l / m, a / m }'
done
echo "(instructions per request; a batch request holds 100 calls)"
