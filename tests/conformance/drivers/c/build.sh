#!/usr/bin/env bash
# Builds the C conformance driver against libthe0.so (cargo build -p the0-ffi) and prints its
# path: <cargo target dir>/the0-conformance-c/driver. Honours CARGO_TARGET_DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build -q -p the0-ffi >&2
mkdir -p "$target/the0-conformance-c"
cc -std=c11 -Wall -Wextra -Werror -O1 -pthread -I"$root/sdk-ffi/include" "$here/driver.c" \
    -o "$target/the0-conformance-c/driver" -L"$target/debug" -l:libthe0.so -Wl,-rpath,"$target/debug"
echo "$target/the0-conformance-c/driver"
