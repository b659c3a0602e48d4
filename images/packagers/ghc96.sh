#!/usr/bin/env bash
# Packager for `ghc96` bots: a cabal package whose executables are the entrypoints.
#
# Builds the package against the Haskell SDK (sdk-haskell/scripts/build-bot.sh: Debian's GHC,
# offline, the0-sdk with libthe0 linked statically), then puts each entrypoint's executable (the
# one of the same name) at the entrypoint's path, beside the folder's top-level bot-config.yaml,
# JSON and Markdown files; sources stay out. The binaries need glibc, libgmp and libffi, which the
# universal image has (it has no GHC): build on Debian bookworm (the image's release) or older.
#
# Usage (from package-bot.sh): ghc96.sh BOT_DIR STAGE_DIR, with THE0_ENTRYPOINTS set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bot_dir=$1 stage=$2

images_step "runghc Setup.hs build ($bot_dir, against sdk-haskell)"
built=$("$REPO_ROOT/sdk-haskell/scripts/build-bot.sh" "$bot_dir")
for entry in $THE0_ENTRYPOINTS; do
    binary="$built/build/$(basename "$entry")/$(basename "$entry")"
    [[ -x $binary ]] || images_die "$bot_dir builds no executable named $(basename "$entry") (entrypoint $entry)"
    install -D -s -m 0755 "$binary" "$stage/$entry"  # stripped: the symbols are half the size
done
find "$bot_dir" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.json' -o -name '*.md' \) -exec cp {} "$stage/" \;
