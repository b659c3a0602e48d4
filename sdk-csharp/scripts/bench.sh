#!/usr/bin/env bash
# Benchmark of the C# SDK (make bench-csharp): req/s and p50/p99 of a C# handler behind the core's
# query server (the conformance driver's /state: the handler reads one state key), on the real
# .NET 8 runtime and on Mono, beside the Rust handler (the Rust driver, release) measured in the
# same run, with wrk -t2 -c32 on 127.0.0.1. Prints each figure beside its target (TARGETS.md:
# >= 15,000 req/s and >= 0.5x the Rust handler, 0 errors); asserts nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/bench/lib.sh"
ensure_wrk
export BENCH_LOG_DIR=${BENCH_LOG_DIR:-$(mktemp -d)}

work=$(mktemp -d)
BENCH_SERVER=""
trap 'if [[ -n $BENCH_SERVER ]]; then kill "$BENCH_SERVER" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
rust=$(bench_rust_driver "$work/state")
dotnet_driver="$("$ROOT/tests/conformance/drivers/csharp/build.sh" dotnet)"
mono_driver="$("$ROOT/tests/conformance/drivers/csharp/build.sh" mono)"

echo "== handlers reading one state key behind the core query server (wrk -t2 -c32 -d${BENCH_SECONDS}s, loopback, $(nproc) cores)"
target=">= 15,000 req/s, >= 0.5x Rust, 0 errors"
bench_driver "rust /state" "reference for the ratios below" "$work/state" "$rust"
# shellcheck disable=SC2086 # the driver command lines are words
bench_driver "csharp .NET 8 /state" "$target" "$work/state" $dotnet_driver
# shellcheck disable=SC2086
bench_driver "csharp Mono /state" "$target" "$work/state" $mono_driver

for label in "csharp .NET 8 /state" "csharp Mono /state"; do
    bench_versus_rust "$label" "rust /state"
done
