#!/usr/bin/env bash
# Benchmark of the Python SDK (make bench). One run, same machine, same client:
#   a) a Python handler behind the0's query server (the shared Rust core, query.run())
#   b) the same handler behind a plain stdlib http.server, as upstream's Python SDK serves queries
# with `wrk -t2 -c32 -d10s --latency` on 127.0.0.1; then state.get / state.set ops/s against
# upstream's pure-Python file IO. Prints each figure beside its target; asserts nothing.
#   BENCH_DURATION  wrk duration (default 10s)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
HERE="$ROOT/sdk-python/scripts"
DURATION="${BENCH_DURATION:-10s}"

if ! command -v wrk >/dev/null; then
    echo "== installing wrk (Debian package)"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi
fi
the0_python_venv

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# bench NAME MODE: start the server, wait for it, run wrk, stop the server.
bench() {
    local name="$1" mode="$2" port
    port="$(free_port)"
    BENCH_PORT="$port" STATE_DIR="$WORK/state" "$PY" "$HERE/bench_servers.py" "$mode" 2>"$WORK/$name.err" &
    SERVER_PID=$!
    for _ in $(seq 200); do
        if "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null; then break; fi
        sleep 0.05
    done
    # Warm-up, then the measured run.
    wrk -t2 -c32 -d2s "http://127.0.0.1:$port/status?symbol=ETH" >/dev/null
    wrk -t2 -c32 -d"$DURATION" --latency "http://127.0.0.1:$port/status?symbol=ETH" >"$WORK/$name.wrk"
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

echo "== wrk -t2 -c32 -d$DURATION --latency, one Python handler, 127.0.0.1 ($(nproc) cores)"
bench core core
bench stdlib stdlib
echo "== state ops/s"
# On tmpfs, as /state is in bot containers, and on the disk under \$TMPDIR.
SHM=/dev/shm; [ -d "$SHM" ] && [ -w "$SHM" ] || SHM="$WORK"
"$PY" "$HERE/bench_state.py" 2 "$SHM" >"$WORK/state-tmpfs.json"
"$PY" "$HERE/bench_state.py" 2 >"$WORK/state-disk.json"

"$PY" - "$WORK" <<'PY'
import json, re, sys
work = sys.argv[1]

def wrk(name):
    text = open(f"{work}/{name}.wrk").read()
    def ms(label):
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    errors = re.search(r"(Non-2xx or 3xx responses: \d+|Socket errors: .*)", text)
    return rps, ms("50%"), ms("99%"), errors.group(1) if errors else "none"

def mark(ok):
    return "meets target" if ok else "BELOW target"

core, std = wrk("core"), wrk("stdlib")
print()
print(f"{'':34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}  errors")
print(f"{'a) handler behind the0 core':34}{core[0]:>10.0f}{core[1]:>10.2f}{core[2]:>10.2f}  {core[3]}")
print(f"{'b) handler behind stdlib http.server':34}{std[0]:>10.0f}{std[1]:>10.2f}{std[2]:>10.2f}  {std[3]}")
print("   (b speaks HTTP/1.0 and closes every connection, as upstream: wrk counts those closes as read")
print("    errors; its listen backlog of 5 makes some connects wait for a SYN retry, hence its p99)")
print()
ratio = core[0] / std[0]
print(f"core req/s        {core[0]:>10.0f}   target >= 4000          {mark(core[0] >= 4000)}")
print(f"core / upstream   {ratio:>10.1f}x  target >= 5x            {mark(ratio >= 5)}")
print(f"core p99          {core[2]:>10.2f}ms target <= 5 ms          {mark(core[2] <= 5)}")
for where in ("tmpfs", "disk"):
    state = json.load(open(f"{work}/state-{where}.json"))
    for op in ("get", "set"):
        t, u = state["the0"][op], state["upstream"][op]
        print(f"state.{op} ops/s ({where:5}) {t:>8.0f}   upstream {u:>8.0f}/s  ratio {t / u:.2f}x"
              f"  target >= 1.0x  {mark(t >= u)}")
PY
