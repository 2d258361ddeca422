#!/usr/bin/env bash
# Keeps ARCHITECTURE.md true: the dependency rules it states between the crates, and no module
# circle but the ones it names (a circle that grows, or a new one, fails; one that shrinks
# asks for the list here and in the document to follow it).
#
# Usage: scripts/architecture-check.sh   (resolves dependency trees only: no build)
set -euo pipefail
cd "$(dirname "$0")/.."
failed=0

deps() { # package, cargo tree flags... -> the names of its normal dependencies, itself included
    cargo tree -q -p "$1" -e normal --prefix none "${@:2}" | sed 's/ v.*//' | sort -u
}

# rpc-core, with every feature on: no async runtime, no HTTP, no sockets, no TLS. The transports
# are rpc-hyper's; rpc-core is what any transport builds on.
core=$(deps rpc-core --all-features)
for forbidden in tokio mio hyper hyper-util h2 http-body rustls tokio-rustls tokio-tungstenite tungstenite futures-util; do
    if grep -qx "$forbidden" <<<"$core"; then
        echo "rpc-core depends on $forbidden: ARCHITECTURE.md forbids it" >&2
        failed=1
    fi
done

# rpc-macros generates code and runs none: syn, quote and proc-macro2 only.
extra=$(deps rpc-macros --all-features | grep -vx -e rpc-macros -e syn -e quote -e proc-macro2 -e unicode-ident || true)
if [ -n "$extra" ]; then
    echo "rpc-macros depends on more than syn, quote and proc-macro2: $extra" >&2
    failed=1
fi

# No crate below depends on one above: rpc-core, rpc-macros and rpc-redis never on rpc-hyper.
for lower in rpc-core rpc-macros rpc-redis; do
    if deps "$lower" --all-features | grep -qx rpc-hyper; then
        echo "$lower depends on rpc-hyper" >&2
        failed=1
    fi
done

# The module circles, as ARCHITECTURE.md lists them: one, the dispatcher's core in rpc-core.
CORE_KNOT=answers,call,cancel,context,kinds,layer,method,peer,register,router,subscription
python3 scripts/module-graph.py rpc-core/src --allow "$CORE_KNOT" >/dev/null || {
    python3 scripts/module-graph.py rpc-core/src --allow "$CORE_KNOT" >&2 || true
    failed=1
}
python3 scripts/module-graph.py rpc-hyper/src >/dev/null || {
    python3 scripts/module-graph.py rpc-hyper/src >&2 || true
    failed=1
}
python3 scripts/module-graph.py rpc-macros/src >/dev/null || {
    python3 scripts/module-graph.py rpc-macros/src >&2 || true
    failed=1
}

if [ "$failed" = 0 ]; then
    echo "ok: the crates depend as ARCHITECTURE.md says, and no module circle but those it names"
fi
exit "$failed"
