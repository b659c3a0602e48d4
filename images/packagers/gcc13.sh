#!/usr/bin/env bash
# Packager for `gcc13` (and `cpp-gcc13`) bots: a CMake project whose executables are the
# entrypoints.
#
# Configures and builds the project (Release, the machine's g++) in a build tree cached under
# $THE0_CACHE/cpp/bots; the the0 C++ SDK comes from an installed package (CMAKE_PREFIX_PATH) or,
# in this clone, from sdk-cpp by add_subdirectory (the example's CMakeLists.txt does either). Each
# entrypoint is the executable of the same name, stripped, at the entrypoint's path, beside the
# folder's top-level bot-config.yaml, JSON and Markdown files; sources stay out. The binaries link
# the SDK statically and need glibc, libstdc++ and libgcc_s, which the universal image has: build
# on Debian bookworm (the image's release) or older.
#
# Usage (from package-bot.sh): gcc13.sh BOT_DIR STAGE_DIR, with THE0_ENTRYPOINTS set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bot_dir=$1 stage=$2

images_need cmake cmake
images_need g++ g++
dpkg -s nlohmann-json3-dev >/dev/null 2>&1 || images_apt_install nlohmann-json3-dev
build="$THE0_CACHE/cpp/bots/$(printf '%s' "$bot_dir" | md5sum | cut -c1-10)"
mkdir -p "$build"
exec 9>"$build.lock"
flock 9 # one build of a folder at a time (the gcc13 and cpp-gcc13 tests package the same bot)
images_step "cmake --build ($bot_dir)"
cmake -S "$bot_dir" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" >&2
for entry in $THE0_ENTRYPOINTS; do
    binary="$build/$(basename "$entry")"
    [[ -x $binary ]] || images_die "$bot_dir builds no executable named $(basename "$entry") (entrypoint $entry)"
    install -D -s -m 0755 "$binary" "$stage/$entry"
done
find "$bot_dir" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.json' -o -name '*.md' \) -exec cp {} "$stage/" \;
