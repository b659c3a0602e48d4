#!/usr/bin/env bash
# Builds the0-sdk and installs it into a package database of its own, outside the clone, and
# prints that database's path (for `ghc -package-db`). The one build step shared by the tests,
# the conformance driver, the example bot's packager and the benchmark:
#   1. Debian's GHC, cabal and Haskell libraries (apt-get, when missing);
#   2. libthe0.a (scripts/native.sh), linked statically into everything built against the SDK;
#   3. runghc Setup.hs configure / build / install (tests enabled), into
#      $CARGO_TARGET_DIR/the0-haskell/{build,prefix,db}. Offline: Hackage is never asked.
# Set THE0_HASKELL_BUILD_QUIET=0 to see GHC's output.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sdk="$(dirname "$here")"
root="$(dirname "$sdk")"
"$here/toolchain.sh" >&2
native="$("$here/native.sh")"
out="${CARGO_TARGET_DIR:-$root/target}/the0-haskell"
db="$out/db"
[ -f "$db/package.cache" ] || { rm -rf "$db"; ghc-pkg init "$db"; }
cd "$sdk"
setup() { runghc Setup.hs "$@" --builddir="$out/build"; }
{
    setup configure --enable-tests --package-db="$db" --prefix="$out/prefix" \
        --extra-lib-dirs="$native" --ghc-options=-Werror -O2
    setup build
    setup install
} >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
echo "$db"
