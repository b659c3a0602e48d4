#!/usr/bin/env bash
# The distributable artifact, checked the way a user gets it: the SDK's jar and pom (built by
# `mvn install`, with libthe0.so inside) are installed into a scratch Maven repository outside the
# clone, and the upstream-style bot (upstream-style-bot/, written as upstream's README uses the
# API) is copied there and built against it, offline; then the bot runs as the0's scala3 runtime
# runs it (`java -jar bot.jar`), in bot mode and as an ephemeral query, with nothing from the
# clone on its path. Run by test.sh after `mvn install`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_maven.sh"

jar="$SCALA_CACHE/sdk/the0-sdk-0.4.0.jar"
[[ -f $jar ]] || { echo "check-install.sh: $jar is missing: run mvn install in sdk-scala first" >&2; exit 1; }
scratch=$(mktemp -d /tmp/the0-scala-install.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# The offline build below can only use what the cache holds, and the bot's build needs plugins the
# SDK's own build never fetches (maven-shade-plugin, Maven's default maven-compiler-plugin): on a
# fresh machine they are fetched once, by an online build of a copy of the bot against the cache,
# remembered per version of the bot's pom.
bot_pom_digest=$(sha256sum "$ROOT/sdk-scala/upstream-style-bot/pom.xml" | cut -c1-16)
resolved="$SCALA_CACHE/upstream-style-bot-$bot_pom_digest.resolved"
if [[ ! -f $resolved ]]; then
    echo "== the upstream-style bot's plugins and libraries, fetched into the cache (once per pom)"
    cp -r "$ROOT/sdk-scala/upstream-style-bot" "$scratch/fetch"
    the0_mvn "$scratch/fetch" upstream-style-bot-fetch -q package
    rm -rf "$scratch/fetch"
    touch "$resolved"
fi

echo "== a scratch Maven repository: the cached third-party artifacts, and the SDK from its jar and pom alone"
cp -al "$CACHE/m2" "$scratch/m2"
rm -rf "$scratch/m2/dev/the0"
repo=(-B -ntp -q -o -Dstyle.color=never -Dmaven.repo.local="$scratch/m2")
mvn "${repo[@]}" org.apache.maven.plugins:maven-install-plugin:3.1.2:install-file -Dfile="$jar" -DpomFile="$ROOT/sdk-scala/pom.xml"

echo "== the upstream-style bot, built outside the clone (offline)"
cp -r "$ROOT/sdk-scala/upstream-style-bot" "$scratch/bot"
(cd "$scratch/bot" && mvn "${repo[@]}" package)
cp "$scratch/bot/target/bot.jar" "$scratch/run.jar"
rm -rf "$scratch/bot" "$scratch/m2"

echo "== java -jar bot.jar: bot mode, then an ephemeral query"
cd "$scratch"
mkdir -p bot
fail() { echo "check-install.sh: $*" >&2; exit 1; }
env -i PATH="$PATH" HOME="$scratch" BOT_ID=bot-1 BOT_CONFIG='{"symbol": "BTC/USD"}' STATE_DIR="$scratch/state" \
    CODE_MOUNT_DIR="${scratch#/}/bot" java -jar run.jar >stdout 2>stderr || fail "bot mode failed: $(cat stderr)"
expect() { [[ $2 == "$3" ]] || fail "$1: expected $3, got $2"; }
expect "result file" "$(cat bot/result.json)" '{"status":"success","message":"Bot executed successfully: 3 keys"}'
expect "state files" "$(cd state && ls | xargs)" "portfolio.json positions.json"
expect "stored portfolio" "$(cat state/portfolio.json)" '{"AAPL":100,"GOOGL":50}'
grep -q '^{"_metric":"price","symbol":"BTC/USD","value":45000.5,"timestamp":"' stdout || fail "no metric line: $(cat stdout)"
expect "log lines" "$(grep -c '^{"level":' stderr)" 4

env -i PATH="$PATH" HOME="$scratch" STATE_DIR="$scratch/state" BOT_CONFIG='{"symbol": "BTC/USD"}' QUERY_PATH=/portfolio \
    QUERY_PARAMS='{"symbol": "ETH/USD", "limit": 5}' THE0_QUERY_RESULT_FILE="$scratch/result.json" \
    java -jar run.jar 2>stderr || fail "the query failed: $(cat stderr)"
expect "query result" "$(cat result.json)" \
    '{"status":"ok","data":{"positions":[{"symbol":"BTC/USD","qty":1.5}],"symbol":"ETH/USD","limit":5,"verbose":false}}'
env -i PATH="$PATH" HOME="$scratch" STATE_DIR="$scratch/state" QUERY_PATH=/status THE0_QUERY_RESULT_FILE="$scratch/result.json" \
    java -jar run.jar 2>stderr || fail "the query failed: $(cat stderr)"
expect "status result" "$(cat result.json)" \
    '{"status":"ok","data":{"query_mode":true,"params":0,"config":{},"writable":false}}'
echo "== the upstream-style bot compiles unchanged and runs against the installed SDK"
