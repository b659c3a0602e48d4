#!/usr/bin/env bash
# Puts libthe0.so into DEST_DIR (the jar's linux-x86-64/ folder, where JNA looks for it).
# Called by Maven (pom.xml, generate-resources) as: pack-native.sh DEST_DIR [SOURCE]
#   SOURCE given: that prebuilt libthe0.so is packed (no cargo needed);
#   else: `cargo build -p the0-ffi --release` in the Rust workspace this SDK sits in
#         (CARGO_TARGET_DIR honoured), and its libthe0.so is packed.
set -euo pipefail
dest=${1:?usage: pack-native.sh DEST_DIR [SOURCE]}
source=${2:-}
workspace="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if [[ -z $source ]]; then
    command -v cargo >/dev/null || {
        echo "pack-native.sh: cargo is needed to build libthe0.so (or pass -Dthe0.library.source=/path/to/libthe0.so)" >&2
        exit 1
    }
    echo "[the0] cargo build -p the0-ffi --release (libthe0.so for the jar)"
    (cd "$workspace" && cargo build -q -p the0-ffi --release)
    target=$(cd "$workspace" && cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    source="$target/release/libthe0.so"
fi
[[ -f $source ]] || { echo "pack-native.sh: $source does not exist" >&2; exit 1; }
install -D -m 0755 "$source" "$dest/libthe0.so"
