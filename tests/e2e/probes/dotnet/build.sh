#!/usr/bin/env bash
# Builds the .NET probe into OUT_DIR/Probe.dll with Mono's mcs, and the runtimeconfig.json that
# makes `dotnet Probe.dll` run it on Microsoft.NETCore.App 8.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../../../images/lib.sh"
out=${1:?usage: build.sh OUT_DIR}
images_need mcs mono-mcs
mcs -nologo -out:"$out/Probe.dll" "$(dirname "${BASH_SOURCE[0]}")/Probe.cs"
cat >"$out/Probe.runtimeconfig.json" <<'JSON'
{"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.NETCore.App", "version": "8.0.0"}}}
JSON
