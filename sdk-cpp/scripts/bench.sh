#!/usr/bin/env bash
# Benchmark of the C++ SDK (make bench-cpp): req/s and p50/p99 of a C++ handler behind the core's
# query server (the conformance driver's /state: the handler reads one state key), beside the Rust
# handler (the Rust driver, release) measured in the same run, with wrk -t2 -c32 on 127.0.0.1.
# Prints each figure beside its target (TARGETS.md: >= 15,000 req/s and >= 0.5x the Rust handler,
# 0 errors); asserts nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
source "$ROOT/bench/lib.sh"
the0_cpp_toolchain
ensure_wrk
export BENCH_LOG_DIR=${BENCH_LOG_DIR:-$(mktemp -d)}

work=$(mktemp -d)
BENCH_SERVER=
trap 'if [[ -n $BENCH_SERVER ]]; then kill "$BENCH_SERVER" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
rust="$(bench_rust_driver "$work/state")"
cpp="$("$ROOT/tests/conformance/drivers/cpp/build.sh")"

echo "== handlers reading one state key behind the core query server (wrk -t2 -c32 -d${BENCH_SECONDS}s, loopback, $(nproc) cores)"
bench_driver "rust /state" "reference for the ratio below" "$work/state" "$rust"
bench_driver "cpp /state" ">= 15,000 req/s, >= 0.5x Rust, 0 errors" "$work/state" "$cpp"
bench_versus_rust "cpp /state" "rust /state"
