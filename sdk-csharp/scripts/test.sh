#!/usr/bin/env bash
# The C# SDK's single test entry point (`make test-csharp`), for a clean clone on a fresh machine:
# installs Mono's compiler and runtime and Newtonsoft.Json (apt) and the .NET 8 runtime (PyPI
# wheel, cached in $THE0_CACHE), builds libthe0 and the SDK, then on Mono AND on .NET 8 runs
#   1. the SDK's tests (tests/, our own runner: "N passed, N failed");
#   2. the ABI check: the SDK refuses a libthe0 of another ABI version;
#   3. an upstream-style bot (tests/upstream-bot), compiled unchanged, as a bot and as queries;
#   4. the example bot's tests (examples/csharp-sma-crossover), byte-for-byte against the Rust twin;
#   5. the conformance suite on the C# driver;
# and finally packs the NuGet package and installs it from a scratch folder outside the clone.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
csharp_tools
command -v curl >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq curl >/dev/null
command -v cc >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq gcc libc6-dev >/dev/null

step "build libthe0 and the SDK (mcs), the .NET 8 runtime"
"$SDK_DIR/scripts/build.sh"
DOTNET="$("$SDK_DIR/scripts/ensure-dotnet.sh")"
"$DOTNET" --list-runtimes
mono --version | head -n1
declare -A HOST=([mono]="$(command -v mono)" [dotnet]="$DOTNET")

step "compile the tests, the upstream-style bot and the example bot"
csharp_app "$OUT/tests" The0.Sdk.Tests "$SDK_DIR"/tests/*.cs
csharp_app "$OUT/upstream-bot" UpstreamBot "$SDK_DIR/tests/upstream-bot/UpstreamBot.cs"
sma="$("$ROOT/examples/csharp-sma-crossover/build.sh")"
csharp_app "$OUT/sma-tests" SmaTests "$SDK_DIR/tests/Runner.cs" "$ROOT/examples/csharp-sma-crossover/tests/BotTests.cs"
rust_sma="$(cd "$ROOT" && cargo build -q -p rust-sma-crossover --bin sma-bot --message-format=json |
    sed -n 's/.*"executable":"\([^"]*sma-bot\)".*/\1/p' | tail -n1)"
[[ -x $rust_sma ]] || die "the Rust example's sma-bot was not built"

# A libthe0.so of ABI version 1, for the check at load.
mkdir -p "$OUT/abi-mismatch"
printf '#include <stdint.h>\nuint32_t the0_abi_version(void) { return 1; }\n' >"$OUT/abi-mismatch/fake.c"
cc -shared -fPIC -o "$OUT/abi-mismatch/libthe0.so" "$OUT/abi-mismatch/fake.c"
cp "$OUT/upstream-bot"/{UpstreamBot.dll,UpstreamBot.runtimeconfig.json,The0.Sdk.dll,Newtonsoft.Json.dll,System.Security.Permissions.dll} \
    "$OUT/abi-mismatch/"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for runtime in mono dotnet; do
    host=${HOST[$runtime]}
    step "$runtime: the SDK's tests"
    (cd "$work" && "$host" "$OUT/tests/The0.Sdk.Tests.dll")

    step "$runtime: a libthe0 of another ABI version is refused at load"
    if (cd "$work" && BOT_ID=b BOT_CONFIG='{}' "$host" "$OUT/abi-mismatch/UpstreamBot.dll" >"$work/abi.out" 2>&1); then
        die "the bot ran against a libthe0 of ABI version 1"
    fi
    grep -q 'libthe0 speaks ABI version 1, but this the0 SDK was built for version 2' "$work/abi.out" ||
        { cat "$work/abi.out"; die "no ABI mismatch message"; }
    echo "refused: $(grep -o 'libthe0 speaks ABI[^:]*' "$work/abi.out" | head -n1)"

    step "$runtime: the upstream-style bot, unchanged"
    run="$work/upstream-$runtime"
    mkdir -p "$run"
    bot() { (cd "$run" && STATE_DIR="$run/state" CODE_MOUNT_DIR="${run#/}/code" BOT_ID=up-1 \
        BOT_CONFIG='{"symbol":"ETH/USD","amount":2.5}' THE0_QUERY_RESULT_FILE="$run/query.json" "$host" "$OUT/upstream-bot/UpstreamBot.dll" "$@"); }
    bot >"$run/out" 2>"$run/err"
    bot >>"$run/out" 2>>"$run/err"
    grep -q '"status":"success","message":"Trade executed for ETH/USD, run 2"' "$run/code/result.json" || die "result: $(cat "$run/code/result.json")"
    [[ $(cat "$run/state/portfolio.json") == '{"Symbol":"ETH/USD","Quantity":100}' ]] || die "portfolio: $(cat "$run/state/portfolio.json")"
    [[ $(grep -c '"_metric":"price"' "$run/out") == 2 ]] || die "metrics: $(cat "$run/out")"
    grep -q '"level":"error","message":"refused: invalid state key' "$run/err" || die "log: $(cat "$run/err")"
    QUERY_PATH=/portfolio QUERY_PARAMS='{"limit":5}' bot
    grep -q '"data":{"symbol":"BTC/USD","quantity":100,"runs":2,"limit":"5","params":{"limit":"5"},"configured":"ETH/USD"}' "$run/query.json" ||
        die "query: $(cat "$run/query.json")"
    if bot fail >/dev/null 2>&1; then die "Input.Error did not exit 1"; fi
    grep -q '"status":"error","message":"Failed to connect to exchange"' "$run/code/result.json" || die "error result"
    echo "bot, query and error runs as upstream documents them"

    step "$runtime: the example bot's tests"
    (cd "$work" && THE0_SMA_BUILD="$sma" THE0_RUST_SMA_BOT="$rust_sma" "$host" "$OUT/sma-tests/SmaTests.dll")

    step "$runtime: the conformance suite on the C# driver"
    (cd "$ROOT" && THE0_CONFORMANCE_DRIVER="$("$ROOT/tests/conformance/drivers/csharp/build.sh" "$runtime")" \
        cargo test -q -p the0-conformance --test driver)
done

step "the NuGet package, installed from a scratch folder outside the clone"
"$SDK_DIR/scripts/pack-test.sh"

step "C# SDK: all tests passed on Mono and .NET 8"
