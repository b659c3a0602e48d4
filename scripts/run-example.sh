#!/usr/bin/env bash
# `make run`: builds the Rust example bot, runs it once on a local state directory, then answers
# queries about it — ephemerally (result file) and from the realtime query server (HTTP).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Building the example bot (examples/rust-sma-crossover)"
cargo build -q -p rust-sma-crossover
bin="$CARGO_TARGET_DIR/debug"

work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
export BOT_ID=sma-demo
export BOT_CONFIG=$(cat examples/rust-sma-crossover/config.json)
export STATE_DIR="$work/state/.the0-state"
export CODE_MOUNT_DIR="${work#/}/bot"
export THE0_QUERY_RESULT_FILE="$work/query/result.json"

step "Running the bot (200 ticks of a seeded random walk; metric lines on stdout)"
"$bin/sma-bot" | tail -n 3
echo "result file: $(cat "$work/bot/result.json")"

step "State written by the bot ($STATE_DIR)"
ls -l "$STATE_DIR"
echo "strategy.json: $(cut -c1-240 "$STATE_DIR/strategy.json")..."

step "Ephemeral query: QUERY_PATH=/status"
QUERY_PATH=/status "$bin/query"
cat "$THE0_QUERY_RESULT_FILE"; echo

step "Realtime query server: BOT_TYPE=realtime, GET /signals?limit=2"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BOT_TYPE=realtime THE0_QUERY_HOST=127.0.0.1 THE0_QUERY_PORT=$port "$bin/query" &
server=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.1; done
echo "\$ curl 'http://127.0.0.1:$port/signals?limit=2'"
curl -s "http://127.0.0.1:$port/signals?limit=2"; echo
echo "\$ curl -X POST 'http://127.0.0.1:$port/signals' -d '{\"limit\": \"x\"}'"
curl -s -X POST "http://127.0.0.1:$port/signals" -d '{"limit": "x"}'; echo
kill -TERM "$server"; wait "$server" && echo "query server stopped cleanly on SIGTERM"
