#!/usr/bin/env bash
# Builds the bot into OUT_DIR (default $CARGO_TARGET_DIR/the0-csharp/sma-crossover): SmaBot.dll and
# SmaQuery.dll with their runtimeconfig.json files (so `dotnet SmaBot.dll` runs them on .NET 8 and
# `mono SmaBot.dll` on Mono), and beside them what they load: The0.Sdk.dll, Newtonsoft.Json.dll,
# System.Security.Permissions.dll and libthe0.so. Prints OUT_DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../sdk-csharp/scripts/lib.sh"
out=${1:-$OUT/sma-crossover}
"$SDK_DIR/scripts/build.sh" >/dev/null
csharp_app "$out" SmaBot "$here/src/Strategy.cs" "$here/src/Bot.cs" >&2
csharp_app "$out" SmaQuery "$here/src/Strategy.cs" "$here/src/Queries.cs" >&2
echo "$out"
