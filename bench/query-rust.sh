#!/usr/bin/env bash
# HTTP round trip to Rust handlers behind the core's query server (the conformance driver, release
# build), over loopback with wrk -t2 -c32. Targets from TARGETS.md:
#   Rust handler, core server direct: >= 30,000 req/s, p99 <= 2 ms, 0 errors
#   (upstream's Rust SDK: 7,307 req/s, p99 21 ms, 37k socket errors, measured the same way).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_wrk
export BENCH_LOG_DIR=${BENCH_LOG_DIR:-$(mktemp -d)}

cargo build -q --release -p the0-conformance --bin the0-driver-rust
driver="$CARGO_TARGET_DIR/release/the0-driver-rust"
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

STATE_DIR="$work/state" "$driver" state set position '{"symbol":"BTC/USD","qty":1.5,"avg_price":101.25}' >/dev/null
port=$(free_port)
BOT_TYPE=realtime STATE_DIR="$work/state" THE0_QUERY_HOST=127.0.0.1 THE0_QUERY_PORT=$port \
    "$driver" query 2>/dev/null &
server=$!
wait_http "http://127.0.0.1:$port/health"

echo "== Rust handlers behind the core query server (wrk -t2 -c32 -d${BENCH_SECONDS}s, loopback)"
wrk_measure "rust /state (handler reads one state key)" "http://127.0.0.1:$port/state?key=position" \
    ">= 30,000 req/s, p99 <= 2 ms, 0 errors; upstream 7,307 req/s, p99 21 ms"
wrk_measure "rust /echo (handler, no I/O)" "http://127.0.0.1:$port/echo?symbol=BTC" \
    ">= 30,000 req/s, p99 <= 2 ms, 0 errors"
wrk_measure "core /health (built-in, no host round trip)" "http://127.0.0.1:$port/health" \
    "reference: the server without the poll queue"
