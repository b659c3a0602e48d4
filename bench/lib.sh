# Shared helpers for the HTTP benchmarks (sourced, not run). Every SDK's query benchmark uses the
# same client and settings as the upstream figures in TARGETS.md: wrk -t2 -c32, keep-alive, over
# loopback. Figures are printed beside their targets; nothing is asserted.

BENCH_SECONDS=${BENCH_SECONDS:-10}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO_ROOT/target}

# Installs wrk from Debian when it is missing.
ensure_wrk() {
    command -v wrk >/dev/null && return
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
}

# A TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until GET $1 answers 200 (at most 20 s).
wait_http() {
    for _ in $(seq 200); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "no answer from $1" >&2
    return 1
}

# wrk_measure LABEL URL TARGET [CONNECTIONS]: runs wrk (32 connections unless told) and prints one
# summary line, e.g.
#   rust /status: 31204 req/s, p50 0.95 ms, p99 1.80 ms, errors 0 (target: >= 30,000 req/s, p99 <= 2 ms)
# The full wrk output goes to $BENCH_LOG_DIR (default: a temp dir) for inspection.
wrk_measure() {
    local label=$1 url=$2 target=$3 connections=${4:-32}
    local log_dir=${BENCH_LOG_DIR:-$(mktemp -d)}
    local log="$log_dir/$(echo "$label" | tr -c 'A-Za-z0-9' '_').wrk.txt"
    local threads=$((connections < 2 ? 1 : 2))
    wrk -t"$threads" -c"$connections" -d"${BENCH_SECONDS}s" --latency "$url" >"$log" 2>&1
    awk -v label="$label" -v target="$target" '
        function ms(v) {
            if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
            if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
            if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
            return v
        }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /^Requests\/sec:/ { rps = $2 }
        /Socket errors:/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { errors += $5 }
        END {
            printf "%s: %d req/s, p50 %.2f ms, p99 %.2f ms, errors %d (target: %s)\n", label, rps, p50, p99, errors, target
        }' "$log"
}

# wrk_rps LABEL: the req/s of the last wrk_measure run with that label (for ratios).
wrk_rps() {
    local log_dir=${BENCH_LOG_DIR:?}
    awk '/^Requests\/sec:/ { print int($2) }' "$log_dir/$(echo "$1" | tr -c 'A-Za-z0-9' '_').wrk.txt"
}

# wrk_p50_us LABEL: the p50 latency, in microseconds, of the last run with that label.
wrk_p50_us() {
    local log_dir=${BENCH_LOG_DIR:?}
    awk '/^ +50%/ { v = $2
        if (v ~ /us$/) { sub(/us$/, "", v); print v + 0 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); print v * 1000 }
        else { sub(/s$/, "", v); print v * 1000000 } }' "$log_dir/$(echo "$1" | tr -c 'A-Za-z0-9' '_').wrk.txt"
}

# The handler benchmarks of the SDKs in other languages (bench-csharp, bench-scala, bench-cpp)
# serve each SDK's conformance driver: its /state handler reads one state key, the same work as
# the Rust driver's.

# bench_rust_driver STATE_DIR: builds the Rust driver (release), stores the key `position` the
# /state handlers read under STATE_DIR, and prints the driver's path.
bench_rust_driver() {
    (cd "$REPO_ROOT" && cargo build -q --release -p the0-conformance --bin the0-driver-rust)
    local rust="$CARGO_TARGET_DIR/release/the0-driver-rust"
    STATE_DIR="$1" "$rust" state set position '{"symbol":"BTC/USD","qty":1.5,"avg_price":101.25}' >/dev/null
    echo "$rust"
}

# bench_driver LABEL TARGET STATE_DIR COMMAND...: serves the driver COMMAND (`COMMAND query`) on a
# free loopback port, warms it up (JIT), measures /state?key=position with wrk_measure, then stops
# it with SIGTERM. BENCH_SERVER holds its pid meanwhile: kill it in your EXIT trap.
bench_driver() {
    local label=$1 target=$2 state=$3 port
    shift 3
    port=$(free_port)
    BOT_TYPE=realtime STATE_DIR="$state" THE0_QUERY_HOST=127.0.0.1 THE0_QUERY_PORT=$port "$@" query 2>/dev/null &
    BENCH_SERVER=$!
    wait_http "http://127.0.0.1:$port/health"
    wrk -t2 -c32 -d3s "http://127.0.0.1:$port/state?key=position" >/dev/null
    wrk_measure "$label" "http://127.0.0.1:$port/state?key=position" "$target"
    kill -TERM "$BENCH_SERVER"
    wait "$BENCH_SERVER" 2>/dev/null || true
    BENCH_SERVER=""
}

# bench_versus_rust LABEL RUST_LABEL: LABEL's req/s beside the Rust handler's of the same run and
# the targets of the non-Rust SDKs (TARGETS.md: >= 15,000 req/s and >= 0.5x Rust).
bench_versus_rust() {
    awk -v l="$1" -v r="$(wrk_rps "$1")" -v base="$(wrk_rps "$2")" 'BEGIN {
        ratio = r / base
        printf "%s: %d req/s = %.2fx Rust (%d req/s)   targets: >= 15,000 req/s %s, >= 0.5x %s\n", l, r, ratio, base,
            (r >= 15000 ? "met" : "NOT met"), (ratio >= 0.5 ? "met" : "NOT met") }'
}
