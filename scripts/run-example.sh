#!/usr/bin/env bash
# `make run`: builds the agent and the Rust example bot, runs the bot with `the0-agent run` as a
# container would (state in a local store, queries through the agent's front), asks it questions
# over HTTP, stops it, and answers one more query from the stored state.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Building the agent and the example bot (examples/rust-sma-crossover)"
cargo build -q -p the0-agent -p rust-sma-crossover
bin="$CARGO_TARGET_DIR/debug"

work=$(mktemp -d)
trap 'kill "${agent:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
# The bot folder as its code archive would hold it: bot-config.yaml and the entrypoints.
bot="$work/rust-sma-crossover"
mkdir -p "$bot/target/release"
cp examples/rust-sma-crossover/bot-config.yaml "$bot/"
cp "$bin/sma-bot" "$bin/query" "$bot/target/release/"
echo '{"symbol": "BTC/USD", "short_period": 5, "long_period": 20, "tick_interval_ms": 20}' > "$bot/config.json"
store="$work/store"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

step "the0-agent run $bot --port $port  (a realtime bot: runs until stopped)"
LOG_LEVEL=warn "$bin/the0-agent" run "$bot" --store "$store" --port "$port" > "$work/bot.out" &
agent=$!
for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/status" && break; sleep 0.1; done
sleep 1
echo "bot output (metric lines):"; tail -n 2 "$work/bot.out"

step "Queries through the agent's front on :$port"
echo "\$ curl http://127.0.0.1:$port/healthz"; curl -s "http://127.0.0.1:$port/healthz"; echo
echo "\$ curl http://127.0.0.1:$port/status"; curl -s "http://127.0.0.1:$port/status"; echo
echo "\$ curl -X POST http://127.0.0.1:$port/signals -d '{\"limit\": 2}'"
curl -s -X POST "http://127.0.0.1:$port/signals" -d '{"limit": 2}'; echo

step "Stopping the bot (SIGTERM to the agent: the bot stops first, then the final sync)"
kill -TERM "$agent"
wait "$agent" || true
agent=
echo "state in the store:"; find "$store" -type f | sed "s|$store/|  |"

step "the0-agent query $bot /status  (answered once from the stored state)"
LOG_LEVEL=warn "$bin/the0-agent" query "$bot" /status --store "$store"
