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

# serve_and_measure LABEL TARGET STATE_DIR URL_PATH DRIVER...: starts a conformance driver's query
# server (`DRIVER... query`, BOT_TYPE=realtime, STATE_DIR, a free port on 127.0.0.1), warms it up
# for 2 s, runs wrk_measure on URL_PATH, and stops it with SIGTERM. While it runs, its pid is in
# BENCH_SERVER_PID (for the caller's exit trap).
serve_and_measure() {
    local label=$1 target=$2 state_dir=$3 path=$4 port
    shift 4
    port=$(free_port)
    BOT_TYPE=realtime STATE_DIR="$state_dir" THE0_QUERY_HOST=127.0.0.1 THE0_QUERY_PORT=$port "$@" query 2>/dev/null &
    BENCH_SERVER_PID=$!
    wait_http "http://127.0.0.1:$port/health"
    wrk -t2 -c32 -d2s "http://127.0.0.1:$port$path" >/dev/null # warm-up
    wrk_measure "$label" "http://127.0.0.1:$port$path" "$target"
    kill -TERM "$BENCH_SERVER_PID"
    wait "$BENCH_SERVER_PID" 2>/dev/null || true
    BENCH_SERVER_PID=
}

# sdk_against_rust LABEL RUST_LABEL: one line with LABEL's req/s, its ratio to RUST_LABEL's, and
# the targets every SDK handler has (TARGETS.md: >= 15,000 req/s and >= 0.5x the Rust handler).
sdk_against_rust() {
    awk -v l="$1" -v r="$(wrk_rps "$1")" -v base="$(wrk_rps "$2")" 'BEGIN {
        ratio = r / base
        printf "%s: %d req/s = %.2fx Rust (%d req/s)   targets: >= 15,000 req/s %s, >= 0.5x %s\n", l, r, ratio, base,
            (r >= 15000 ? "met" : "NOT met"), (ratio >= 0.5 ? "met" : "NOT met") }'
}
