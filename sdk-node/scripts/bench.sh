#!/usr/bin/env bash
# Benchmark (issue 7, item 6): the same JavaScript handler behind the core's query server
# (@the0/sdk, napi addon) and behind a plain node:http server, measured in one run with
# `wrk -t2 -c32 -d10s --latency`. Prints requests/s, p50 and p99 for both and their ratio, each
# beside its target; then state.get / state.set ops/s against upstream's pure-JS file IO
# (scripts/bench-state.js). Asserts nothing. Honours CARGO_TARGET_DIR; BENCH_DURATION overrides 10s.
set -euo pipefail

SDK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${BENCH_DURATION:-10s}"
TARGET_RPS=10000
UPSTREAM_RPS=6871

if ! command -v wrk >/dev/null; then
  echo "bench.sh: installing wrk (Debian package)" >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update >/dev/null && apt-get install -y wrk >/dev/null
  else
    echo "bench.sh: wrk is missing; install it with: sudo apt-get install -y wrk" >&2
    exit 1
  fi
fi

cd "$SDK_DIR"
if [ ! -d node_modules/typescript ]; then npm ci --no-audit --no-fund; fi
echo "bench.sh: building the addon (release) and the package" >&2
npm run build >&2

SERVERS=()
cleanup() {
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

wait_ready() {
  local port=$1
  node -e '
    const http = require("http");
    const deadline = Date.now() + 20000;
    (function poll() {
      http.get({ host: "127.0.0.1", port: +process.argv[1], path: "/price", agent: false }, (r) => {
        r.resume();
        process.exit(r.statusCode === 200 ? 0 : 1);
      }).on("error", () => {
        if (Date.now() > deadline) process.exit(1);
        setTimeout(poll, 50);
      });
    })();' "$port"
}

# measure NAME PORT -> sets RPS P50 P99 (latencies in ms)
measure() {
  local name=$1 port=$2 url="http://127.0.0.1:$2/price?symbol=ETH/USD"
  wait_ready "$port" || { echo "bench.sh: $name server did not start" >&2; exit 1; }
  wrk -t2 -c32 -d2s "$url" >/dev/null # warm-up
  local out
  out="$(wrk -t2 -c32 -d"$DURATION" --latency "$url")"
  printf '%s\n' "--- wrk, $name ---" "$out" >&2
  RPS="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
  P50="$(awk '$1 == "50%" {print $2}' <<<"$out" | to_ms)"
  P99="$(awk '$1 == "99%" {print $2}' <<<"$out" | to_ms)"
}

to_ms() {
  awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) }
         else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 } printf "%.2f", v }'
}

port=$(free_port)
BOT_TYPE=realtime THE0_QUERY_HOST=127.0.0.1 THE0_QUERY_PORT=$port \
  node scripts/bench-server.js core 2>/dev/null &
SERVERS+=($!)
measure "core server (@the0/sdk)" "$port"
CORE_RPS=$RPS CORE_P50=$P50 CORE_P99=$P99
kill "${SERVERS[0]}"; wait "${SERVERS[0]}" 2>/dev/null || true

port=$(free_port)
BENCH_PORT=$port node scripts/bench-server.js http &
SERVERS+=($!)
measure "plain node:http" "$port"
HTTP_RPS=$RPS HTTP_P50=$P50 HTTP_P99=$P99

echo "bench.sh: state ops/s (tmpfs and disk)" >&2
SHM=/dev/shm; { [ -d "$SHM" ] && [ -w "$SHM" ]; } || SHM="$(mktemp -d)"
STATE_TMPFS="$(node scripts/bench-state.js 2 "$SHM")"
STATE_DISK="$(node scripts/bench-state.js 2)"

node - "$STATE_TMPFS" "$STATE_DISK" <<'JS'
const [tmpfs, disk] = process.argv.slice(2).map((t) => JSON.parse(t));
console.log('\nNode SDK state ops/s (same value, 16 keys, round-robin)');
for (const [where, r] of [['tmpfs', tmpfs], ['disk', disk]]) {
  for (const op of ['get', 'set']) {
    const ratio = r.the0[op] / r.upstream[op];
    console.log(
      `state.${op} (${where.padEnd(5)}) ${Math.round(r.the0[op]).toString().padStart(8)}/s   upstream ${Math.round(r.upstream[op]).toString().padStart(8)}/s  ratio ${ratio.toFixed(2)}x  target >= 1.0x  ${ratio >= 1 ? 'meets target' : 'BELOW target'}`,
    );
  }
}
JS

node - "$CORE_RPS" "$CORE_P50" "$CORE_P99" "$HTTP_RPS" "$HTTP_P50" "$HTTP_P99" "$TARGET_RPS" "$UPSTREAM_RPS" "$DURATION" <<'JS'
const [coreRps, coreP50, coreP99, httpRps, httpP50, httpP99, target, upstream, duration] = process.argv.slice(2);
const n = (x) => Math.round(Number(x)).toLocaleString('en-US');
const met = (x) => (Number(x) >= Number(target) ? 'met' : 'NOT met');
const rows = [
  ['server', 'req/s', 'p50', 'p99', 'target'],
  ['core (@the0/sdk)', n(coreRps), `${coreP50} ms`, `${coreP99} ms`, `>= ${n(target)} req/s: ${met(coreRps)}`],
  ['plain node:http', n(httpRps), `${httpP50} ms`, `${httpP99} ms`, `baseline (upstream node:http server: ${n(upstream)} req/s)`],
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`\nNode SDK query benchmark: wrk -t2 -c32 -d${duration} --latency, same JS handler, 127.0.0.1`);
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
const ratio = Number(coreRps) / Number(httpRps);
const wanted = Number(target) / Number(upstream);
console.log(`ratio core / node:http: ${ratio.toFixed(2)}x  (target: core >= ${n(target)} req/s, i.e. >= ${wanted.toFixed(2)}x upstream's ${n(upstream)})`);
JS
