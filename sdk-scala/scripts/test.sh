#!/usr/bin/env bash
# The Scala SDK's tests, from a clean clone on a fresh machine (the single entry point for make):
#   1. a JDK and Maven (Debian) when missing
#   2. `mvn install` in sdk-scala: libthe0.so (cargo, release) packed into the jar, the ScalaTest
#      suites under Surefire, the jar installed into the Maven cache ($THE0_CACHE/m2)
#   3. the distributable: the jar and pom installed into a scratch repository outside the clone,
#      and the upstream-style bot built against them there and run (scripts/check-install.sh)
#   4. the example bot (examples/scala-momentum): its suites, its runnable jar, run as the agent
#      runs it (`java -jar`, `java -cp jar MainClass`)
#   5. the shared conformance suite against the Scala driver (tests/conformance/drivers/scala)
# Needs cargo, and access to Maven Central (and Debian) on a machine that has not cached them yet.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_maven.sh"
step() { printf '\n== %s\n' "$*"; }

the0_java_tools

step "mvn install (sdk-scala): libthe0.so into the jar, ScalaTest under Surefire"
the0_mvn "$ROOT/sdk-scala" sdk install

step "the distributable jar, installed outside the clone, under an upstream-style bot"
"$ROOT/sdk-scala/scripts/check-install.sh"

step "examples/scala-momentum: mvn package (its suites, then momentum.jar)"
the0_mvn "$ROOT/examples/scala-momentum" example-momentum package
jar="$SCALA_CACHE/example-momentum/momentum.jar"
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
mkdir -p "$run/bot"
env -i PATH="$PATH" HOME="$run" BOT_ID=m-1 BOT_CONFIG='{"max_iterations": 3, "tick_interval_ms": 0}' \
    STATE_DIR="$run/state" CODE_MOUNT_DIR="${run#/}/bot" java -jar "$jar" >"$run/stdout" 2>"$run/stderr" ||
    { cat "$run/stderr" >&2; exit 1; }
grep -q '"message":"processed 3 prices"' "$run/bot/result.json" || { echo "momentum.jar: unexpected result: $(cat "$run/bot/result.json")" >&2; exit 1; }
env -i PATH="$PATH" HOME="$run" STATE_DIR="$run/state" QUERY_PATH=/status THE0_QUERY_RESULT_FILE="$run/result.json" \
    java -cp "$jar" momentum.QueryMain 2>"$run/stderr" || { cat "$run/stderr" >&2; exit 1; }
grep -q '^{"status":"ok","data":{"symbol":"BTC/USD","tick":3,' "$run/result.json" ||
    { echo "momentum.QueryMain: unexpected answer: $(cat "$run/result.json")" >&2; exit 1; }
echo "momentum.jar: 3 ticks stored, /status answers tick 3"

step "conformance suite against the Scala driver"
driver=$("$ROOT/tests/conformance/drivers/scala/build.sh")
started=$(date +%s)
(cd "$ROOT" && THE0_CONFORMANCE_DRIVER="$driver" cargo test -q -p the0-conformance --test driver)
echo "conformance suite on the Scala driver: $(( $(date +%s) - started )) s"

step "scala SDK: all tests passed"
