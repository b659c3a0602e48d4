#!/usr/bin/env bash
# Installs the NuGet package (scripts/pack.sh) with `nuget install` from a local feed in a scratch
# folder outside the clone, builds a bot against the installed package only (lib/net472 and
# runtimes/linux-x64/native, laid out beside the bot as a publish would), and runs it on Mono and
# on .NET 8. The feed stands in for nuget.org: it also holds Newtonsoft.Json 6.0.8, packed here
# from Debian's assembly (nuget.org is not reachable).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
package="$("$SDK_DIR/scripts/pack.sh")"
dotnet="$("$SDK_DIR/scripts/ensure-dotnet.sh")"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/the0-nupkg.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
case "$scratch" in "$ROOT"/*) die "the scratch folder must be outside the clone" ;; esac

mkdir -p "$scratch/feed" "$scratch/newtonsoft/lib/net45" "$scratch/bot"
cp "$package" "$scratch/feed/"
cp "$NEWTONSOFT" "$scratch/newtonsoft/lib/net45/"
cat >"$scratch/newtonsoft/Newtonsoft.Json.nuspec" <<'XML'
<?xml version="1.0"?>
<package><metadata><id>Newtonsoft.Json</id><version>6.0.8</version><authors>James Newton-King</authors>
<description>Debian's Newtonsoft.Json 6.0.8, standing in for nuget.org's in this offline test feed.</description>
</metadata><files><file src="lib/net45/Newtonsoft.Json.dll" target="lib/net45" /></files></package>
XML
nuget pack "$scratch/newtonsoft/Newtonsoft.Json.nuspec" -BasePath "$scratch/newtonsoft" -OutputDirectory "$scratch/feed" \
    -NoPackageAnalysis -NonInteractive >/dev/null

cd "$scratch"
nuget install The0.Sdk -Source "$scratch/feed" -OutputDirectory "$scratch/packages" -NonInteractive
sdk="$(ls -d "$scratch"/packages/The0.Sdk.*)"
json="$(ls -d "$scratch"/packages/Newtonsoft.Json.*)"
cp "$SDK_DIR/tests/upstream-bot/UpstreamBot.cs" "$scratch/bot/"
mcs "${MCS_FLAGS[@]}" -target:exe -out:"$scratch/bot/UpstreamBot.dll" -r:"$sdk/lib/net472/The0.Sdk.dll" \
    -r:"$json/lib/net45/Newtonsoft.Json.dll" "$scratch/bot/UpstreamBot.cs"
cp "$sdk"/lib/net472/*.dll "$json"/lib/net45/Newtonsoft.Json.dll "$sdk"/runtimes/linux-x64/native/libthe0.so "$scratch/bot/"
echo '{"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.NETCore.App", "version": "8.0.0"}}}' \
    >"$scratch/bot/UpstreamBot.runtimeconfig.json"
for host in "$(command -v mono)" "$dotnet"; do
    rm -rf "$scratch/run"
    (cd "$scratch/bot" && STATE_DIR="$scratch/run/state" CODE_MOUNT_DIR="${scratch#/}/run/code" BOT_ID=pkg-1 \
        BOT_CONFIG='{"symbol":"SOL/USD"}' "$host" UpstreamBot.dll >/dev/null 2>"$scratch/err") ||
        { cat "$scratch/err"; die "the bot built from the package failed on $host"; }
    grep -q '"message":"Trade executed for SOL/USD, run 1"' "$scratch/run/code/result.json" ||
        die "unexpected result on $host: $(cat "$scratch/run/code/result.json")"
    echo "$(basename "$host"): a bot built against the installed package ran: $(cat "$scratch/run/code/result.json")"
done
