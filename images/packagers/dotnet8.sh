#!/usr/bin/env bash
# Packager for `dotnet8` bots: a folder with a build.sh that compiles the bot's entrypoints (.dll
# assemblies with their runtimeconfig.json, as `dotnet publish` lays them out) into the folder it
# is given. The agent runs `dotnet <entry>.dll` with the image's .NET 8 runtime.
#
# The C# example (examples/csharp-sma-crossover/build.sh) compiles with Mono's mcs against the
# SDK (no .NET SDK or NuGet here) and puts beside its assemblies what they load: The0.Sdk.dll,
# Newtonsoft.Json.dll, System.Security.Permissions.dll and libthe0.so (found by .NET in the
# application's folder). Besides the build, the archive holds the folder's top-level
# bot-config.yaml, JSON and Markdown files; sources and tests stay out.
#
# Usage (from package-bot.sh): dotnet8.sh BOT_DIR STAGE_DIR, with THE0_ENTRYPOINTS set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bot_dir=$1 stage=$2

[[ -x $bot_dir/build.sh ]] || images_die "$bot_dir has no build.sh that builds its .dll entrypoints"
images_step "$bot_dir/build.sh $stage"
"$bot_dir/build.sh" "$stage" >/dev/null
for entry in $THE0_ENTRYPOINTS; do
    [[ -f $stage/$entry ]] || images_die "$bot_dir/build.sh built no $entry (entrypoint)"
done
find "$bot_dir" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.json' -o -name '*.md' \) -exec cp {} "$stage/" \;
