#!/usr/bin/env bash
# Benchmark of the Scala SDK (make bench-scala): req/s and p50/p99 of a Scala handler behind the
# core's query server (the conformance driver's /state: the handler reads one state key), on the
# JVM with its default (server) settings, beside the Rust handler (the Rust driver, release)
# measured in the same run, with wrk -t2 -c32 on 127.0.0.1. Prints each figure beside its target
# (TARGETS.md: >= 15,000 req/s and >= 0.5x the Rust handler, 0 errors); asserts nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_maven.sh"
source "$ROOT/bench/lib.sh"
ensure_wrk
the0_java_tools
export BENCH_LOG_DIR=${BENCH_LOG_DIR:-$(mktemp -d)}

work=$(mktemp -d)
BENCH_SERVER=""
trap 'if [[ -n $BENCH_SERVER ]]; then kill "$BENCH_SERVER" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
rust=$(bench_rust_driver "$work/state")
"$ROOT/tests/conformance/drivers/scala/build.sh" >/dev/null
# The driver's launcher is tuned for start-up (C1 only); the benchmark runs it with the JVM's defaults.
scala_classpath=$(cat "$SCALA_CACHE/driver/driver.classpath")

echo "== handlers reading one state key behind the core query server (wrk -t2 -c32 -d${BENCH_SECONDS}s, loopback, $(nproc) cores)"
echo "   the Scala handler on $(java -version 2>&1 | head -1), default JVM flags"
bench_driver "rust /state" "reference for the ratios below" "$work/state" "$rust"
bench_driver "scala /state" ">= 15,000 req/s, >= 0.5x Rust, 0 errors" "$work/state" java -cp "$scala_classpath" Driver
bench_versus_rust "scala /state" "rust /state"
