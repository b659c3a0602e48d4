#!/usr/bin/env bash
# Builds the distributable NuGet package with `nuget pack` (Debian's NuGet client):
# $CARGO_TARGET_DIR/the0-csharp/nupkg/The0.Sdk.<version>.nupkg, version = the workspace's. Prints
# its path. (The net8.0 package is `dotnet pack The0.Sdk.csproj`, which needs the .NET SDK.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v nuget >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends nuget >/dev/null
"$SDK_DIR/scripts/build.sh" >/dev/null
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n1)"
mkdir -p "$OUT/nupkg"
rm -f "$OUT/nupkg/The0.Sdk.$version.nupkg"
nuget pack "$SDK_DIR/packaging/The0.Sdk.nuspec" -BasePath "$LIB" -OutputDirectory "$OUT/nupkg" \
    -Properties "version=$version" -NoPackageAnalysis -NonInteractive >&2
echo "$OUT/nupkg/The0.Sdk.$version.nupkg"
