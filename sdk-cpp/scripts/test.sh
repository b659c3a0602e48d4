#!/usr/bin/env bash
# The C++ SDK's tests, from a clean clone on a fresh machine (the single entry point of
# `make test-cpp`):
#   1. the toolchain (apt when missing); `cargo fetch`, so every CMake build below runs offline
#   2. sdk-cpp: configure, build (cargo builds the Rust core), the GoogleTest suite under CTest
#   3. the package: `cmake --install` and `cpack`; the tarball unpacked in a scratch prefix outside
#      the clone must hold everything a bot needs, and nothing that points back into the clone
#   4. an upstream-style bot, unchanged, in scratch projects outside the clone: add_subdirectory,
#      and find_package of the unpacked tarball
#   5. the conformance suite on the C++ driver, and the cross-reading case with Rust, C and C++
#   6. the example bot's tests (examples/cpp-sma-crossover), beside its Rust twin
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$ROOT"

the0_cpp_toolchain
step "cargo fetch (the CMake builds run cargo --offline)"
cargo fetch --locked -q

step "sdk-cpp: build and CTest"
configure "$ROOT/sdk-cpp" "$BUILDS/sdk"
cmake --build "$BUILDS/sdk"
ctest --test-dir "$BUILDS/sdk" --output-on-failure -j2 | tail -n 3

step "sdk-cpp: cmake --install and cpack"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/the0-cpp-package.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
cmake --install "$BUILDS/sdk" --prefix "$scratch/installed" >/dev/null
(cd "$BUILDS/sdk" && cpack -G TGZ -B "$BUILDS/dist" >/dev/null)
tarball="$(ls "$BUILDS"/dist/the0-cpp-*.tar.gz)"
mkdir "$scratch/unpacked"
tar -xzf "$tarball" -C "$scratch/unpacked"
prefix="$(echo "$scratch"/unpacked/the0-cpp-*)"
for file in include/the0/the0.h include/the0/state.h include/the0/query.h include/the0/errors.h \
    lib/libthe0.a lib/cmake/the0/the0Config.cmake lib/cmake/the0/the0ConfigVersion.cmake lib/cmake/the0/the0Targets.cmake; do
    [ -f "$prefix/$file" ] || { echo "$file missing from $tarball" >&2; exit 1; }
done
if grep -rl "$ROOT" "$prefix/include" "$prefix/lib/cmake"; then
    echo "the package refers to the clone ($ROOT)" >&2
    exit 1
fi
diff -r "$scratch/installed" "$prefix" >/dev/null || { echo "cpack and cmake --install differ" >&2; exit 1; }
echo "package ok: $tarball ($(du -h "$tarball" | cut -f1))"

step "an upstream-style bot: add_subdirectory(sdk-cpp)"
sdk-cpp/scripts/check-upstream-bot.sh subdir
step "an upstream-style bot: find_package(the0) of the unpacked tarball"
sdk-cpp/scripts/check-upstream-bot.sh package "$prefix"

step "conformance suite against the C++ driver"
export THE0_CARGO_OFFLINE=ON
driver="$(tests/conformance/drivers/cpp/build.sh)"
THE0_CONFORMANCE_DRIVER="$driver" cargo test -q -p the0-conformance --test driver

step "cross-reading: Rust, C and C++ drivers"
cargo build -q -p the0-conformance --bin the0-driver-rust -p rust-sma-crossover --bin sma-bot
c_driver="$(tests/conformance/drivers/c/build.sh)"
THE0_CONFORMANCE_DRIVERS="rust=$CARGO_TARGET_DIR/debug/the0-driver-rust;c=$c_driver;cpp=$driver" \
    cargo test -q -p the0-conformance --test cross

step "examples/cpp-sma-crossover: build and CTest"
configure "$ROOT/examples/cpp-sma-crossover" "$BUILDS/example" -DSMA_BUILD_TESTS=ON
cmake --build "$BUILDS/example"
THE0_RUST_SMA_BOT="$CARGO_TARGET_DIR/debug/sma-bot" ctest --test-dir "$BUILDS/example" --output-on-failure | tail -n 3

step "C++ SDK: all tests passed"
