#!/usr/bin/env bash
# The distributable artifact, checked outside the clone: builds the sdist (runghc Setup.hs sdist)
# beside libthe0.a, copies both to a scratch directory under /tmp, installs the SDK there from the
# tarball alone (configure --package-db/--prefix/--extra-lib-dirs, build, install), compiles an
# upstream-style bot (test/upstream/UpstreamBot.hs, unchanged upstream code) against the installed
# package, and runs it as a bot and as an ephemeral query, checking its result files.
# Prints the artifact's paths; `make dist-haskell` runs it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sdk="$(dirname "$here")"
root="$(dirname "$sdk")"
"$here/toolchain.sh"
native="$("$here/native.sh")"
out="${CARGO_TARGET_DIR:-$root/target}/the0-haskell"
dist="$out/dist"
rm -rf "$dist" && mkdir -p "$dist"
(cd "$sdk" && runghc Setup.hs configure --builddir="$out/sdist-build" --extra-lib-dirs="$native" >/dev/null &&
    runghc Setup.hs sdist --builddir="$out/sdist-build" >/dev/null)
version="$(sed -n 's/^version: *//p' "$sdk/the0-sdk.cabal")"
tarball="$dist/the0-sdk-$version.tar.gz"
mv "$out/sdist-build/the0-sdk-$version.tar.gz" "$tarball"
cp "$native/libthe0.a" "$dist/"

scratch="$(mktemp -d /tmp/the0-haskell-sdist.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
# libthe0.a goes where it stays: bots link it when they are built (never at run time).
lib="$scratch/prefix/lib/the0"
mkdir -p "$lib" "$scratch/bot"
cp "$tarball" "$scratch/" && cp "$dist/libthe0.a" "$lib/"
cd "$scratch"
tar xzf "$(basename "$tarball")"
ghc-pkg init "$scratch/db"
(
    cd "the0-sdk-$version"
    runghc Setup.hs configure --package-db="$scratch/db" --prefix="$scratch/prefix" --extra-lib-dirs="$lib"
    runghc Setup.hs build
    runghc Setup.hs install
) >"$scratch/install.log" 2>&1 || { cat "$scratch/install.log" >&2; exit 1; }
rm -rf "the0-sdk-$version" "$(basename "$tarball")"   # the sources are not needed any more
cp "$sdk/test/upstream/UpstreamBot.hs" "$scratch/bot/"
ghc -v0 -threaded -package-db "$scratch/db" -outputdir "$scratch/bot/obj" -o "$scratch/bot/upstream-bot" "$scratch/bot/UpstreamBot.hs"

fail() { echo "sdist check: $*" >&2; exit 1; }
mkdir -p "$scratch/mount"
env -i PATH="$PATH" BOT_ID=upstream BOT_CONFIG='{"symbol":"BTC/USD","note":"café ☕"}' STATE_DIR="$scratch/state" \
    CODE_MOUNT_DIR="${scratch#/}/mount" "$scratch/bot/upstream-bot" >"$scratch/stdout" 2>"$scratch/stderr" ||
    fail "the upstream-style bot failed: $(cat "$scratch/stderr")"
grep -q '"status":"success","message":"Trade executed"' "$scratch/mount/result.json" || fail "bot result: $(cat "$scratch/mount/result.json")"
grep -q '"_metric":"trade"' "$scratch/stdout" || fail "no metric line: $(cat "$scratch/stdout")"
grep -q '"note":"café ☕"' "$scratch/stderr" || fail "config not logged whole: $(cat "$scratch/stderr")"
env -i PATH="$PATH" STATE_DIR="$scratch/state" QUERY_PATH=/status QUERY_PARAMS='{"symbol":"ETH"}' \
    BOT_CONFIG='{"note":"é"}' THE0_QUERY_RESULT_FILE="$scratch/query.json" "$scratch/bot/upstream-bot" query ||
    fail "the query entrypoint failed"
expected='{"status":"ok","data":{"active":true,"config":{"note":"é"},"params":{"symbol":"ETH"},"path":"/status","query_mode":true,"same_params":true,"symbol":"ETH","write_refused":true}}'
actual="$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True, separators=(",", ":"), ensure_ascii=False))' "$scratch/query.json")"
[ "$actual" = "$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True, separators=(",", ":"), ensure_ascii=False))' "$expected")" ] ||
    fail "query result: $actual"
echo "sdist check passed: installed from $(basename "$tarball") + libthe0.a in $scratch, upstream-style bot ran" >&2
echo "$tarball"
echo "$dist/libthe0.a"
