#!/usr/bin/env bash
# The agent's query front (issue 8), in one run on one machine:
#   - the same Rust handler (the conformance driver's /state, reading one state key) hit directly
#     on its own TCP port, and through the agent's front on :9476 (front -> Unix socket -> core);
#   - the wall time of an ephemeral query: `the0-agent execute --query /status` on the local
#     store with the example bot's compiled query binary (agent start, state restore, query
#     process, answer), p50 over 30 runs.
# Targets (TARGETS.md): through the front >= 0.75x direct throughput in the same run, and <= 100 us
# added at p50 with one connection; ephemeral query <= 10 ms p50.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_wrk
export BENCH_LOG_DIR=${BENCH_LOG_DIR:-$(mktemp -d)}

cargo build -q --release -p the0-agent -p rust-sma-crossover -p the0-conformance --bin the0-agent --bin query --bin the0-driver-rust
release="$CARGO_TARGET_DIR/release"
work=$(mktemp -d)
trap 'kill ${pids:-} 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/state/.the0-state" "$work/code"
STATE_DIR="$work/state/.the0-state" "$release/the0-driver-rust" state set position '{"symbol":"BTC/USD","qty":1.5}' >/dev/null

# Direct: the driver serving on its own loopback port.
direct=$(free_port)
BOT_TYPE=realtime STATE_DIR="$work/state/.the0-state" THE0_QUERY_HOST=127.0.0.1 THE0_QUERY_PORT=$direct \
    "$release/the0-driver-rust" query 2>/dev/null &
pids="$!"
# Through the front: the agent runs a realtime bot whose query entrypoint is the same driver.
front=$(free_port)
cp "$release/the0-driver-rust" "$work/code/driver"
printf '#!/bin/sh\nexec "$(dirname "$0")/driver" query\n' > "$work/code/query.sh"
printf '#!/bin/sh\nexec sleep 3600\n' > "$work/code/bot.sh"
chmod +x "$work/code/query.sh" "$work/code/bot.sh"
BOT_ID=bench RUNTIME=rust-stable ENTRYPOINT=bot.sh QUERY_ENTRYPOINT=query.sh BOT_TYPE=realtime \
    CODE_PATH="$work/code" STATE_PATH="$work/state" LOGS_PATH="$work/logs" THE0_STORE="file://$work/store" \
    THE0_AGENT_RUNTIME_DIR="$work/runtime" THE0_AGENT_QUERY_ADDR=127.0.0.1:$front THE0_SYNC_INTERVAL_SECS=3600 \
    LOG_LEVEL=warn "$release/the0-agent" execute >/dev/null 2>&1 &
pids="$pids $!"
wait_http "http://127.0.0.1:$direct/health"
wait_http "http://127.0.0.1:$front/health"

echo "== The same Rust handler, directly and through the agent's front (wrk, ${BENCH_SECONDS}s each)"
wrk_measure "direct, 32 connections" "http://127.0.0.1:$direct/state?key=position" "reference"
wrk_measure "front, 32 connections" "http://127.0.0.1:$front/state?key=position" ">= 0.75x direct"
wrk_measure "direct, 1 connection" "http://127.0.0.1:$direct/state?key=position" "reference" 1
wrk_measure "front, 1 connection" "http://127.0.0.1:$front/state?key=position" "front adds <= 100 us at p50" 1
awk -v d="$(wrk_rps "direct, 32 connections")" -v f="$(wrk_rps "front, 32 connections")" \
    'BEGIN { printf "front / direct throughput (32 connections): %.2f (target: >= 0.75)\n", f / d }'
for connections in "32 connections" "1 connection"; do
    awk -v d="$(wrk_p50_us "direct, $connections")" -v f="$(wrk_p50_us "front, $connections")" -v c="$connections" \
        'BEGIN { printf "front added at p50 (%s): %.0f us (target: <= 100 us)\n", c, f - d }'
done

echo "== Ephemeral query wall time (the0-agent execute --query /status, local store, compiled query binary)"
mkdir -p "$work/eph/code/target/release"
cp "$release/query" "$work/eph/code/target/release/query"
times=()
for i in $(seq 30); do
    start=$(date +%s%N)
    BOT_ID=bench RUNTIME=rust-stable ENTRYPOINT=target/release/query QUERY_ENTRYPOINT=target/release/query \
        CODE_PATH="$work/eph/code" STATE_PATH="$work/eph/state" LOGS_PATH="$work/eph/logs" \
        THE0_STORE="file://$work/store" THE0_AGENT_RUNTIME_DIR="$work/eph/runtime" \
        THE0_QUERY_RESULT_FILE="$work/eph/result.json" LOG_LEVEL=error \
        "$release/the0-agent" execute --query /status >/dev/null 2>&1
    times+=($(( ($(date +%s%N) - start) / 1000 )))
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END {
    printf "ephemeral query: p50 %.1f ms, p90 %.1f ms over %d runs (target: <= 10 ms p50)\n", t[int(NR/2)+1] / 1000, t[int(NR*0.9)] / 1000, NR }'
