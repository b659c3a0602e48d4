#!/usr/bin/env bash
# Builds a bot's cabal package (BOT_DIR holding one .cabal file) against the0-sdk and prints the
# build directory: each executable X is <dir>/build/X/X, linked statically with libthe0 (it needs
# only glibc, libgmp and libffi at run time). Extra arguments go to `Setup.hs configure`
# (e.g. --enable-tests). Offline: runghc Setup.hs with Debian's GHC and libraries.
set -euo pipefail
bot_dir="$(cd "${1:?usage: build-bot.sh BOT_DIR [configure args...]}" && pwd)"
shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
db="$("$here/build.sh")"
out="$(dirname "$db")/bots/$(basename "$bot_dir")"
mkdir -p "$out"
setup="$here/../Setup.hs"
cd "$bot_dir"
{
    runghc "$setup" configure --builddir="$out" --package-db="$db" --ghc-options=-Werror "$@"
    runghc "$setup" build --builddir="$out"
} >"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
echo "$out"
