#!/usr/bin/env bash
# The Haskell SDK's tests, from a clean clone on a fresh machine (the single entry point for make):
#   1. Debian's GHC and libraries, libthe0.a, the SDK built and installed (build.sh)
#   2. the hspec suite (runghc Setup.hs test)
#   3. the shared conformance suite against the Haskell driver, threaded and non-threaded RTS
#   4. the example bot (examples/haskell-sma-crossover) and its tests, with the Rust twin
#   5. the sdist + libthe0.a installed outside the clone, an upstream-style bot built against it
# Needs cargo, apt-get (as root) when GHC is missing; nothing from Hackage.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sdk="$(dirname "$here")"
root="$(dirname "$sdk")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
step() { echo "== $*"; }

step "build: libthe0.a and the0-sdk (offline, Debian's GHC)"
db="$("$here/build.sh")"
out="$(dirname "$db")"

step "hspec: sdk-haskell (with the Rust driver, for the state shared byte for byte)"
(cd "$root" && cargo build -q -p the0-conformance --bin the0-driver-rust -p rust-sma-crossover --bin sma-bot)
(cd "$sdk" && THE0_RUST_DRIVER="$CARGO_TARGET_DIR/debug/the0-driver-rust" \
    runghc Setup.hs test --builddir="$out/build" --show-details=streaming)

for rts in "" --non-threaded; do
    step "conformance suite against the Haskell driver ${rts:-(threaded RTS)}"
    driver="$("$root/tests/conformance/drivers/haskell/build.sh" $rts)"
    (cd "$root" && THE0_CONFORMANCE_DRIVER="$driver" cargo test -q -p the0-conformance --test driver)
done

step "example bot: examples/haskell-sma-crossover"
bot="$("$here/build-bot.sh" "$root/examples/haskell-sma-crossover" --enable-tests)"
THE0_SMA_BOT="$bot/build/sma-bot/sma-bot" THE0_SMA_QUERY="$bot/build/query/query" \
    THE0_RUST_SMA_BOT="$CARGO_TARGET_DIR/debug/sma-bot" "$bot/build/bot-test/bot-test"

step "sdist: installed and used outside the clone"
"$here/sdist-check.sh" >/dev/null

echo "== haskell SDK: all tests passed"
