#!/usr/bin/env bash
# Builds the C++ conformance driver (CMake, Release, sdk-cpp added with add_subdirectory) and
# prints its path: <cargo target dir>/the0-conformance-cpp/the0-driver-cpp. Honours
# CARGO_TARGET_DIR (the Rust core is built there too) and THE0_CARGO_OFFLINE=ON.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
build="$target/the0-conformance-cpp"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# A build made from another clone's sources (same cargo target dir) starts afresh.
if [ -f "$build/CMakeCache.txt" ] && ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$here" "$build/CMakeCache.txt"; then
    rm -rf "$build"
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$here" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
        -DTHE0_CARGO_TARGET_DIR="$target" -DTHE0_CARGO_OFFLINE="${THE0_CARGO_OFFLINE:-OFF}" >&2
fi
cmake --build "$build" >&2
echo "$build/the0-driver-cpp"
