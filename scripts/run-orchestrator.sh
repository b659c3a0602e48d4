#!/usr/bin/env bash
# `make run`, second part: the orchestrator in Docker mode. The Rust example bot, packaged as the
# platform stores it, runs twice from a spec directory — as a realtime bot and as a scheduled bot
# (every 10 seconds) — in the universal image, with MinIO on 127.0.0.1; both are queried through
# the gateway, then the orchestrator stops them. Everything it starts is stopped and removed.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run="run-$$"
work=$(mktemp -d)
orchestrator= minio= dockerd_pid=
cleanup() {
    local status=$?
    if [[ -n $orchestrator ]]; then kill -TERM "$orchestrator" 2>/dev/null && wait "$orchestrator" || true; fi
    if [[ -n $minio ]]; then kill "$minio" 2>/dev/null && wait "$minio" || true; fi
    {
        docker ps -aq --filter "label=the0.instance=$run" | xargs -r docker rm -f
        docker image rm "the0-runtime:$run" "the0-agent:$run"
    } >/dev/null 2>&1 || true
    scripts/dockerd.sh down "$dockerd_pid"
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
dockerd_pid=$(scripts/dockerd.sh up)

step "Building the orchestrator, the agent, the universal image and the example bot's archive"
cargo build -q -p the0-orchestrator
make -s agent >/dev/null
agent="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/agent/the0-agent"
THE0_IMAGE_TAG=$run images/build.sh "$agent" >/dev/null 2>&1
images/package-bot.sh examples/rust-sma-crossover "$work/sma.zip" >/dev/null

step "MinIO on 127.0.0.1 (the object store), with the code archive uploaded"
port=$(free_port)
export MINIO_ENDPOINT="127.0.0.1:$port" MINIO_ACCESS_KEY=the0demo MINIO_SECRET_KEY=the0demo-secret MINIO_USE_SSL=false
MINIO_ROOT_USER=$MINIO_ACCESS_KEY MINIO_ROOT_PASSWORD=$MINIO_SECRET_KEY MINIO_BROWSER=off \
    "$(scripts/ensure-minio.sh)" server --quiet --address "$MINIO_ENDPOINT" --console-address "127.0.0.1:$(free_port)" \
    "$work/minio" >/dev/null 2>&1 &
minio=$!
s3() { curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user "$MINIO_ACCESS_KEY:$MINIO_SECRET_KEY" "$@"; }
for _ in $(seq 300); do s3 -X PUT "http://$MINIO_ENDPOINT/custom-bots" -o /dev/null && break; sleep 0.1; done
s3 -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$work/sma.zip" "http://$MINIO_ENDPOINT/custom-bots/examples/sma/1.0.0"
echo "custom-bots/examples/sma/1.0.0 ($(stat -c %s "$work/sma.zip") bytes)"

step "Two bot specs in $work/specs"
mkdir -p "$work/specs"
cat >"$work/specs/sma-live.yaml" <<'SPEC'
type: realtime
runtime: rust-stable
code: examples/sma/1.0.0
version: 1.0.0
entrypoints: {bot: target/release/sma-bot, query: target/release/query}
config: {symbol: BTC/USD, short_period: 5, long_period: 20, tick_interval_ms: 50, seed: 7}
SPEC
cat >"$work/specs/sma-cron.yaml" <<'SPEC'
type: scheduled
schedule: "*/10 * * * * *"
timezone: Europe/London
timeout_secs: 60
runtime: rust-stable
code: examples/sma/1.0.0
version: 1.0.0
entrypoints: {bot: target/release/sma-bot, query: target/release/query}
config: {symbol: ETH/USD, short_period: 3, long_period: 8, ticks: 30, tick_interval_ms: 1, seed: 3}
SPEC
head -n 100 "$work/specs"/*.yaml

gateway="127.0.0.1:$(free_port)"
step "the0-orchestrator docker --specs ... --listen $gateway  (log: $work/orchestrator.log)"
LOG_LEVEL=info "$CARGO_TARGET_DIR/debug/the0-orchestrator" docker --specs "$work/specs" --network host \
    --instance "$run" --image "the0-runtime:$run" --listen "$gateway" --warm-pool 1 --admin-token demo \
    >"$work/orchestrator.log" 2>&1 &
orchestrator=$!
for _ in $(seq 300); do curl -sf -o /dev/null "http://$gateway/readyz" && break; sleep 0.1; done

query() { curl -s -X POST "http://$gateway/query" -d "$1"; echo; }
step "The realtime bot, queried through the gateway"
for _ in $(seq 300); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$gateway/query" -d '{"bot_id":"sma-live","query_path":"/status"}') == 200 ]] && break
    sleep 0.1
done
sleep 2
echo "\$ curl -X POST http://$gateway/query -d '{\"bot_id\":\"sma-live\",\"query_path\":\"/status\"}'"
query '{"bot_id":"sma-live","query_path":"/status"}'
echo "\$ curl -X POST http://$gateway/query -d '{\"bot_id\":\"sma-live\",\"query_path\":\"/signals\",\"params\":{\"limit\":2}}'"
query '{"bot_id":"sma-live","query_path":"/signals","params":{"limit":2}}'

step "The scheduled bot: waiting for its first run, then queried (a warm one-shot query container answers)"
for _ in $(seq 300); do grep -q '"scheduled run finished"' "$work/orchestrator.log" && break; sleep 0.1; done
grep -m1 '"scheduled run finished"' "$work/orchestrator.log"
query '{"bot_id":"sma-cron","query_path":"/status"}'

step "Containers, and a few metrics"
docker ps --filter "label=the0.instance=$run" --format 'table {{.Names}}\t{{.Status}}\t{{.Label "runtime.type"}}'
curl -s "http://$gateway/metrics" | grep -E '^the0_(bots_running|bot_starts_total|schedule_runs_total|gateway_queries_total)'

step "Stopping the orchestrator (SIGTERM: it stops its bots, which sync their state on the way out)"
kill -TERM "$orchestrator"
wait "$orchestrator" || true
orchestrator=
echo "containers left: $(docker ps -aq --filter "label=the0.instance=$run" | wc -l)"
