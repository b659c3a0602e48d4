#!/usr/bin/env bash
# Builds the Haskell conformance driver against the0-sdk and prints its path. Installs the SDK
# into the package database of sdk-haskell/scripts/build.sh first. Honours CARGO_TARGET_DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
db="$("$root/sdk-haskell/scripts/build.sh")"
out="$(dirname "$db")/driver"
mkdir -p "$out"
ghc -v0 -O2 -threaded -Wall -Werror -package-db "$db" -outputdir "$out/obj" -o "$out/driver" "$here/Driver.hs" >&2
echo "$out/driver"
