#!/usr/bin/env bash
# What the library costs a user at build time, against the server they would write by hand.
#
# Two small crates are generated outside the workspace, each in its own clean target dir:
#
# - user:  `#[rpc_method] fn add` served by `rpc_hyper::serve`; depends on rpc-core, rpc-hyper
#          and tokio only, as the README's quick start does;
# - floor: the same `add` server written by hand with hyper 1 (`http1`), hyper-util, tokio,
#          serde and serde_json (the serde code is rpc-core's benchmark floor).
#
# The user crate is built with the default features, with each feature that is off by
# default (rpc-core's and rpc-hyper's, read from their manifests), and with all of them.
# Every configuration is built from clean with `cargo build --release` in each round; the
# rounds interleave the configurations, so a slower minute of the machine hits them alike.
# Prints, per configuration, the median build time, the median of its per-round ratios to the
# floor's time, the number of crates compiled, and the binary's size; then whether the
# targets hold:
# default features <= 1.25x the floor's time and <= 1.3x its crate count.
#
# Usage: scripts/build-cost.sh [ROUNDS]   (default 3; about a minute per build on 2 cores)
#        scripts/build-cost.sh --check    (no build: resolves the dependency trees and checks
#                                          one `syn`, no trace of an unused feature, and the
#                                          crate-count target; for CI)
#
# The generated crates start from the workspace's Cargo.lock, so they get the same versions.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

MODE=build
ROUNDS=3
case "${1:-}" in
    --check) MODE=check ;;
    "") ;;
    *) ROUNDS=$1 ;;
esac
TIME_TARGET=1.25
CRATES_TARGET=1.3

WORK=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

# ---- the two crates -------------------------------------------------------------------------
TOKIO='tokio = { version = "1", features = ["macros", "rt-multi-thread", "net"] }'

mkdir -p "$WORK/user/src" "$WORK/floor/src"
cat >"$WORK/user/Cargo.toml" <<EOF
[package]
name = "user"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
rpc-core = { path = "$REPO/rpc-core" }
rpc-hyper = { path = "$REPO/rpc-hyper" }
$TOKIO

[workspace]
EOF
cat >"$WORK/user/src/main.rs" <<'EOF'
//! One method, served over HTTP with the library.
use rpc_core::{rpc_method, Router};

/// Adds two integers.
#[rpc_method]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut router = Router::new();
    router.register(add::method()).expect("one method");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    rpc_hyper::serve(listener, router).await
}
EOF

cat >"$WORK/floor/Cargo.toml" <<EOF
[package]
name = "floor"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
hyper = { version = "1", features = ["server", "http1"] }
hyper-util = { version = "0.1", features = ["tokio"] }
http-body-util = "0.1"
serde = { version = "1", features = ["derive"] }
serde_json = { version = "1", features = ["raw_value"] }
$TOKIO

[workspace]
EOF
cat >"$WORK/floor/src/main.rs" <<EOF
//! The same method, served by hand: hyper's HTTP/1 server and serde.
use std::convert::Infallible;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

#[path = "$REPO/rpc-core/benches/support/floor.rs"]
mod floor;

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let reply = if body.first() == Some(&b'[') { floor::batch(&body) } else { floor::single(&body) };
    Ok(Response::new(Full::new(Bytes::from(reply))))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(answer);
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            served.await.ok();
        });
    }
}
EOF
cp Cargo.lock "$WORK/user/Cargo.lock"
cp Cargo.lock "$WORK/floor/Cargo.lock"

# ---- the configurations -----------------------------------------------------------------------
# The features a crate declares, less `default` and those it turns on by default.
optional_features() { # crate dir
    local manifest="$REPO/$1/Cargo.toml"
    local defaults
    defaults=$(sed -n 's/^default *= *\[\(.*\)\]/\1/p' "$manifest" | tr -d '" ' | tr ',' ' ')
    sed -n '/^\[features\]/,/^\[/p' "$manifest" | sed -n 's/^\([a-z0-9_-]*\) *=.*/\1/p' |
        while read -r feature; do
            [ "$feature" = default ] && continue
            case " $defaults " in *" $feature "*) continue ;; esac
            echo "$1/$feature"
        done
}
FEATURES=$( (optional_features rpc-core; optional_features rpc-hyper) | tr '\n' ' ')
ALL=$(echo "$FEATURES" | xargs | tr ' ' ',')

# name|crate|cargo feature flags
CONFIGS=("floor|floor|" "default|user|")
for feature in $FEATURES; do CONFIGS+=("+${feature#*/}|user|--features=$feature"); done
# "all" differs from the one-feature row only when there are several features.
if [ "$(echo "$FEATURES" | wc -w)" -gt 1 ]; then CONFIGS+=("all features|user|--features=$ALL"); fi

field() { echo "$1" | cut -d'|' -f"$2"; }

# ---- checks on the dependency trees, no build ---------------------------------------------------
tree() { # crate [flags...]
    local crate=$1
    shift
    (cd "$WORK/$crate" && cargo tree -q -e normal,build --prefix none "$@")
}
crate_count() { # crate [flags...]: packages compiled, the crate itself included
    tree "$@" | sed 's/ (\*)$//; s/ (proc-macro)//' | sort -u | wc -l
}

failed=0
check() { # message command...: prints whether the command succeeds
    local message=$1
    shift
    if "$@"; then echo "ok: $message"; else echo "NOT MET: $message"; failed=1; fi
}
lacks() { ! grep -q "$1"; } # pattern: standard input has no line matching it
at_most() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { exit !(a / b <= t) }'; }

if [ "$MODE" = check ]; then
    dups=$(cd "$WORK/user" && cargo tree -q -d -e normal,build --features="$ALL")
    check "one syn in the user crate's build, all features on" lacks '^syn v' <<<"$dups"
    default_tree=$(tree user)
    for feature in $FEATURES; do
        # What the feature brings that the default build does not have must be absent from it.
        extra=$(comm -13 <(echo "$default_tree" | sort -u) \
            <(tree user --features="$feature" | sort -u) | sed 's/ (\*)$//' | sort -u)
        echo "  ${feature#*/} adds: $(echo "$extra" | awk '{print $1}' | xargs)"
    done
    check "no h2 in the default build" lacks '^h2 v' <<<"$default_tree"
    floor=$(crate_count floor)
    user=$(crate_count user)
    ratio=$(awk -v a="$user" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')
    check "default features: $user crates against the floor's $floor (${ratio}x, target <= ${CRATES_TARGET}x)" \
        at_most "$user" "$floor" "$CRATES_TARGET"
    exit $failed
fi

# ---- builds -----------------------------------------------------------------------------------
cargo fetch -q --manifest-path "$WORK/user/Cargo.toml"
cargo fetch -q --manifest-path "$WORK/floor/Cargo.toml"
echo "building ${#CONFIGS[@]} configurations from clean, $ROUNDS rounds..." >&2
for round in $(seq "$ROUNDS"); do
    for i in "${!CONFIGS[@]}"; do
        config=${CONFIGS[$i]}
        crate=$(field "$config" 2)
        flags=$(field "$config" 3)
        target="$WORK/target-$i"
        rm -rf "$target"
        start=$(date +%s.%N)
        # shellcheck disable=SC2086 # $flags is empty or one word
        (cd "$WORK/$crate" && CARGO_TARGET_DIR="$target" cargo build --release --offline $flags \
            2>"$WORK/log-$i")
        end=$(date +%s.%N)
        awk -v a="$end" -v b="$start" 'BEGIN { print a - b }' >>"$WORK/times-$i"
        grep -c '^ *Compiling ' "$WORK/log-$i" >"$WORK/crates-$i"
        stat -c %s "$target/release/$crate" >"$WORK/size-$i"
        echo "  round $round: $(field "$config" 1): $(tail -n1 "$WORK/times-$i") s" >&2
    done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Each round's time over the floor's time in the same round, for configuration $1.
ratios() { paste "$WORK/times-$1" "$WORK/times-0" | awk '{ print $1 / $2 }'; }
floor_crates=$(cat "$WORK/crates-0")
printf '\n%-16s %9s %7s %7s %7s %11s\n' build "time (s)" ratio crates ratio "binary KiB"
for i in "${!CONFIGS[@]}"; do
    t=$(median <"$WORK/times-$i")
    c=$(cat "$WORK/crates-$i")
    s=$(($(cat "$WORK/size-$i") / 1024))
    printf '%-16s %9.1f %6.2fx %7d %6.2fx %11d\n' "$(field "${CONFIGS[$i]}" 1)" "$t" \
        "$(ratios "$i" | median)" "$c" "$(awk -v a="$c" -v b="$floor_crates" 'BEGIN { print a / b }')" "$s"
done
echo "(time: median of $ROUNDS clean release builds; ratio: median of the per-round ratios; $(nproc) cores)"
echo
default_crates=$(cat "$WORK/crates-1")
check "default features: build time <= ${TIME_TARGET}x the floor's" \
    at_most "$(ratios 1 | median)" 1 "$TIME_TARGET"
check "default features: crates compiled <= ${CRATES_TARGET}x the floor's" \
    at_most "$default_crates" "$floor_crates" "$CRATES_TARGET"
exit $failed
