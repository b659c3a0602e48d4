#!/usr/bin/env bash
# Builds libthe0.a (cargo build -p the0-ffi --release) and prints a directory holding it alone,
# for `--extra-lib-dirs`: with no libthe0.so beside it, GHC links the core statically into the
# bot, which then needs no LD_LIBRARY_PATH and no rpath. Honours CARGO_TARGET_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build -q --release -p the0-ffi >&2)
native="$target/the0-haskell/native"
mkdir -p "$native"
if ! cmp -s "$target/release/libthe0.a" "$native/libthe0.a"; then
    cp "$target/release/libthe0.a" "$native/libthe0.a.partial"
    mv "$native/libthe0.a.partial" "$native/libthe0.a"
fi
echo "$native"
