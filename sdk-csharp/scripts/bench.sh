#!/usr/bin/env bash
# Benchmark of the C# SDK (make bench-csharp): req/s and p50/p99 of a C# handler behind the core's
# query server (the conformance driver's /state: the handler reads one state key), on the real
# .NET 8 runtime and on Mono, beside the Rust handler (the Rust driver, release) measured in the
# same run, with wrk -t2 -c32 on 127.0.0.1. Prints each figure beside its target (TARGETS.md:
# >= 15,000 req/s and >= 0.5x the Rust handler, 0 errors); asserts nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/bench/lib.sh"
ensure_wrk
export BENCH_LOG_DIR=${BENCH_LOG_DIR:-$(mktemp -d)}

cargo build -q --release -p the0-conformance --bin the0-driver-rust
rust="$CARGO_TARGET_DIR/release/the0-driver-rust"
dotnet_driver="$("$ROOT/tests/conformance/drivers/csharp/build.sh" dotnet)"
mono_driver="$("$ROOT/tests/conformance/drivers/csharp/build.sh" mono)"
work=$(mktemp -d)
server=""
trap 'if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
STATE_DIR="$work/state" "$rust" state set position '{"symbol":"BTC/USD","qty":1.5,"avg_price":101.25}' >/dev/null

# measure LABEL DRIVER-COMMAND...: serves the driver, warms it up, runs wrk on /state.
measure() {
    local label=$1 port
    shift
    port=$(free_port)
    BOT_TYPE=realtime STATE_DIR="$work/state" THE0_QUERY_HOST=127.0.0.1 THE0_QUERY_PORT=$port "$@" query 2>/dev/null &
    server=$!
    wait_http "http://127.0.0.1:$port/health"
    wrk -t2 -c32 -d2s "http://127.0.0.1:$port/state?key=position" >/dev/null # warm-up (JIT)
    wrk_measure "$label" "http://127.0.0.1:$port/state?key=position" "$target"
    kill -TERM "$server"
    wait "$server" 2>/dev/null || true
    server=""
}

echo "== handlers reading one state key behind the core query server (wrk -t2 -c32 -d${BENCH_SECONDS}s, loopback, $(nproc) cores)"
target="reference for the ratios below"
measure "rust /state" "$rust"
target=">= 15,000 req/s, >= 0.5x Rust, 0 errors"
# shellcheck disable=SC2086 # the driver command lines are words
measure "csharp .NET 8 /state" $dotnet_driver
# shellcheck disable=SC2086
measure "csharp Mono /state" $mono_driver

rust_rps=$(wrk_rps "rust /state")
for label in "csharp .NET 8 /state" "csharp Mono /state"; do
    rps=$(wrk_rps "$label")
    awk -v l="$label" -v r="$rps" -v base="$rust_rps" 'BEGIN {
        ratio = r / base
        printf "%s: %d req/s = %.2fx Rust (%d req/s)   targets: >= 15,000 req/s %s, >= 0.5x %s\n", l, r, ratio, base,
            (r >= 15000 ? "met" : "NOT met"), (ratio >= 0.5 ? "met" : "NOT met") }'
done
