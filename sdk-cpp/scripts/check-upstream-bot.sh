#!/usr/bin/env bash
# Builds the upstream-style bot (sdk-cpp/tests/upstream-bot), unchanged, in a scratch project
# outside the clone, and checks what its bot and query programs write.
#
#   check-upstream-bot.sh subdir             the project adds sdk-cpp with add_subdirectory
#   check-upstream-bot.sh package PREFIX     the project finds the installed package at PREFIX
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
mode="${1:?usage: check-upstream-bot.sh subdir | package PREFIX}"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/the0-upstream-bot.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
case "$scratch" in "$ROOT"/*) echo "scratch project inside the clone" >&2; exit 1 ;; esac
cp "$ROOT"/sdk-cpp/tests/upstream-bot/{CMakeLists.txt,main.cpp,query.cpp} "$scratch/"
cmake_args=(-S "$scratch" -B "$scratch/build" -G Ninja -DCMAKE_BUILD_TYPE=Release)
case "$mode" in
    subdir) cmake_args+=(-DTHE0_SDK_DIR="$ROOT/sdk-cpp" -DTHE0_CARGO_TARGET_DIR="$CARGO_TARGET_DIR" -DTHE0_CARGO_OFFLINE=ON) ;;
    package) cmake_args+=(-DCMAKE_PREFIX_PATH="${2:?the package prefix}") ;;
    *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
cmake "${cmake_args[@]}" >/dev/null
cmake --build "$scratch/build" >/dev/null

run="$scratch/run"
mkdir -p "$run/bot" "$run/state"
env_of() {
    env -i PATH="$PATH" BOT_ID=upstream-1 BOT_CONFIG='{"symbol": "ETH/USD", "amount": 2}' \
        STATE_DIR="$run/state" CODE_MOUNT_DIR="${run#/}/bot" THE0_QUERY_RESULT_FILE="$run/result.json" "$@"
}
env_of "$scratch/build/bot" >"$run/bot.out" 2>"$run/bot.err"
env_of "$scratch/build/bot" >/dev/null 2>&1
cp "$run/state/bot_state.json" "$run/after-two-runs.json"
env_of QUERY_PATH=/status "$scratch/build/query"
cp "$run/result.json" "$run/status.json"
env_of QUERY_PATH=/signals QUERY_PARAMS='{"limit": 5, "note": "hi"}' "$scratch/build/query"
cp "$run/result.json" "$run/signals.json"
env_of QUERY_PATH=/write "$scratch/build/query"
cp "$run/result.json" "$run/write.json"
set +e
env_of BOT_CONFIG='{"fail": true}' "$scratch/build/bot" >/dev/null 2>&1
failed=$?
set -e

python3 - "$run" "$failed" <<'PY'
import json, sys
run, failed = sys.argv[1], int(sys.argv[2])
def load(name):
    return json.load(open(f"{run}/{name}"))
state = load("after-two-runs.json")
assert state == {"raw_config": '{"symbol":"ETH/USD","amount":2}', "runs": 2, "symbol": "ETH/USD"}, state
metrics = [json.loads(l) for l in open(f"{run}/bot.out")]
assert [m["_metric"] for m in metrics] == ["price"] and metrics[0]["value"] == 45000.5, metrics
logs = [json.loads(l) for l in open(f"{run}/bot.err") if l.startswith("{")]
assert [l["level"] for l in logs] == ["warn", "info", "info", "info", "warn", "error"], logs
assert logs[0]["error"].startswith('invalid state key "bad/key"'), logs[0]
assert load("status.json") == {"status": "ok", "data": {"runs": 2, "symbol": "ETH/USD", "path": "/status", "query_mode": True}}
signals = load("signals.json")["data"]
assert signals == {"limit_applied": 5, "has_limit": True, "note": "hi", "params": {"limit": "5", "note": "hi"}, "count": 2}, signals
write = load("write.json")["data"]
assert write["written"] is False and "read-only" in write["error"], write
assert failed == 1, failed
assert load("bot/result.json") == {"status": "error", "message": "Failed to connect"}
print("upstream-style bot ok")
PY
