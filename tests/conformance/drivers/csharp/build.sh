#!/usr/bin/env bash
# Builds the C# conformance driver (against the SDK built by sdk-csharp/scripts/build.sh) into
# $CARGO_TARGET_DIR/the0-csharp/driver and prints the command line that runs it on RUNTIME:
#   build.sh mono     ->  mono <dir>/the0-driver-csharp.dll
#   build.sh dotnet   ->  <THE0_CACHE>/dotnet-8.0.4/dotnet <dir>/the0-driver-csharp.dll
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../../../sdk-csharp/scripts/lib.sh"
runtime=${1:?usage: build.sh mono|dotnet}
"$SDK_DIR/scripts/build.sh" >/dev/null
csharp_app "$OUT/driver" the0-driver-csharp "$here/Driver.cs" >&2
case $runtime in
    mono) echo "$(command -v mono) $OUT/driver/the0-driver-csharp.dll" ;;
    dotnet) echo "$("$SDK_DIR/scripts/ensure-dotnet.sh") $OUT/driver/the0-driver-csharp.dll" ;;
    *) die "unknown runtime $runtime (mono or dotnet)" ;;
esac
