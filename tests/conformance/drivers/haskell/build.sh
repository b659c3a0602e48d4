#!/usr/bin/env bash
# Builds the Haskell conformance driver against the0-sdk and prints its path. Installs the SDK
# into the package database of sdk-haskell/scripts/build.sh first. With --non-threaded the driver
# is linked with GHC's non-threaded RTS (one OS thread), the other way a bot may be built.
# Honours CARGO_TARGET_DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
db="$("$root/sdk-haskell/scripts/build.sh")"
rts=(-threaded) name=driver
if [ "${1:-}" = --non-threaded ]; then rts=() name=driver-non-threaded; fi
out="$(dirname "$db")/$name"
mkdir -p "$out"
ghc -v0 -O2 "${rts[@]}" -Wall -Werror -package-db "$db" -outputdir "$out/obj" -o "$out/driver" "$here/Driver.hs" >&2
echo "$out/driver"
