#!/usr/bin/env bash
# Benchmark of the Haskell SDK (make bench-haskell): a Haskell handler behind the core's query
# server (the conformance driver's /state and /echo, -O2 -threaded) and the Rust handler (the Rust
# driver, release) measured in the same run with wrk -t2 -c32 over loopback. Prints each figure
# beside its target (TARGETS.md: >= 15,000 req/s and >= 0.5x the Rust handler, 0 errors);
# asserts nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/bench/lib.sh"
ensure_wrk
export BENCH_LOG_DIR=${BENCH_LOG_DIR:-$(mktemp -d)}

haskell="$("$root/tests/conformance/drivers/haskell/build.sh")"
(cd "$root" && cargo build -q --release -p the0-conformance --bin the0-driver-rust)
rust="$CARGO_TARGET_DIR/release/the0-driver-rust"
work=$(mktemp -d)
server=""
trap 'if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

# serve DRIVER PATH LABEL TARGET: starts the driver's query server, measures PATH, stops it.
serve() {
    local driver=$1 path=$2 label=$3 target=$4 port
    port=$(free_port)
    BOT_TYPE=realtime STATE_DIR="$work/state" THE0_QUERY_HOST=127.0.0.1 THE0_QUERY_PORT=$port \
        "$driver" query 2>/dev/null &
    server=$!
    wait_http "http://127.0.0.1:$port/health"
    wrk -t2 -c32 -d2s "http://127.0.0.1:$port$path" >/dev/null # warm-up
    wrk_measure "$label" "http://127.0.0.1:$port$path" "$target"
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

STATE_DIR="$work/state" "$rust" state set position '{"symbol":"BTC/USD","qty":1.5,"avg_price":101.25}' >/dev/null

echo "== Haskell and Rust handlers behind the core query server (wrk -t2 -c32 -d${BENCH_SECONDS}s, loopback, $(nproc) cores)"
for path in "/state?key=position" "/echo?symbol=BTC"; do
    serve "$rust" "$path" "rust $path" "reference"
    serve "$haskell" "$path" "haskell $path" ">= 15,000 req/s, >= 0.5x rust, 0 errors"
    r=$(wrk_rps "rust $path"); h=$(wrk_rps "haskell $path")
    awk -v h="$h" -v r="$r" -v p="$path" 'BEGIN {
        ratio = h / r
        printf "haskell %s: %d req/s (target >= 15,000: %s), %.2fx rust (target >= 0.5x: %s)\n", p, h,
            (h >= 15000 ? "met" : "NOT met"), ratio, (ratio >= 0.5 ? "met" : "NOT met") }'
done
