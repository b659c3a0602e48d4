# Sourced by test.sh and bench.sh: paths, the toolchain check, and CMake builds kept outside the
# clone (under $THE0_CACHE/cpp, keyed by the clone's path, so another clone gets its own).
#
#   THE0_CACHE        cache root (default ~/.cache/the0-runtime)
#   CARGO_TARGET_DIR  where cargo builds the Rust core (default $THE0_CACHE/target)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${THE0_CACHE:-$HOME/.cache/the0-runtime}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
BUILDS="$CACHE/cpp/$(printf '%s' "$ROOT" | md5sum | cut -c1-10)"

step() { echo "== $*"; }

# Installs what is missing from cmake, ninja, g++, nlohmann-json3-dev and GoogleTest (Debian).
the0_cpp_toolchain() {
    local missing=() package
    for package in cmake ninja-build g++ nlohmann-json3-dev libgtest-dev python3; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    step "apt-get install ${missing[*]}"
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
}

# configure SOURCE BUILD [cmake args...]: configures BUILD for SOURCE (Release, Ninja, the core
# built offline into CARGO_TARGET_DIR), starting afresh when BUILD was made for another source.
configure() {
    local source="$1" build="$2"
    shift 2
    if [ -f "$build/CMakeCache.txt" ] && ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$source" "$build/CMakeCache.txt"; then
        rm -rf "$build"
    fi
    cmake -S "$source" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DTHE0_CARGO_TARGET_DIR="$CARGO_TARGET_DIR" -DTHE0_CARGO_OFFLINE=ON "$@" >/dev/null
}
