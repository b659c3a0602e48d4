#!/usr/bin/env bash
# The tests of sdk-ffi, the C ABI of the the0 core; `make test` calls this script.
#
# 1. installs what is missing (a C compiler, valgrind);
# 2. builds libthe0.so and libthe0.a with cargo and asks rustc for the static library's native
#    dependencies (--print native-static-libs);
# 3. runs the Rust tests, including the drift check of include/the0.h;
# 4. builds the C suite (tests/c) and the README's example twice, once linked against the .so
#    and once against the .a, and runs it for both;
# 5. runs the whole C suite again under valgrind memcheck (children included) and fails on any
#    memcheck error (invalid reads or writes, uninitialised values...) or definite leak;
# 6. runs the conformance suite (tests/conformance) against the C driver.
#
# Cargo outputs go to ${CARGO_TARGET_DIR:-<repo>/target}; the C binaries to
# <target>/the0-ffi-c. Nothing is written to the source tree.
set -euo pipefail

crate="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$crate/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
lib_dir="$target/debug"
out="$target/the0-ffi-c"

step() { printf '\n== %s\n' "$*"; }

step "tools"
missing=()
command -v cc >/dev/null || missing+=(gcc libc6-dev)
command -v valgrind >/dev/null || missing+=(valgrind)
if ((${#missing[@]})); then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
cc --version | head -n1
valgrind --version

step "cargo build"
cd "$root"
rm -rf "$out"
mkdir -p "$out/shared" "$out/static" "$out/valgrind"
# Cargo replays this note when the library is fresh, so it is always there.
if ! cargo rustc -p the0-ffi --lib --crate-type staticlib -- --print native-static-libs \
    >"$out/native-static-libs.log" 2>&1; then
    cat "$out/native-static-libs.log" >&2
    exit 1
fi
native_libs="$(sed -n 's/^note: native-static-libs: //p' "$out/native-static-libs.log" | tail -n1)"
if [[ -z "$native_libs" ]]; then
    echo "rustc did not report the native libraries of libthe0.a" >&2
    exit 1
fi
echo "native-static-libs: $native_libs"
cargo build -p the0-ffi

step "cargo test (unit tests and the header drift check)"
cargo test -p the0-ffi

step "build the C suite against libthe0.so and libthe0.a"
# The README's example, exactly as published: the ```c block after the marker comment.
awk '/<!-- example.c: compiled and run by scripts\/test.sh -->/ { marked = 1; next }
     marked && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$crate/README.md" >"$out/example.c"
if [[ ! -s "$out/example.c" ]]; then
    echo "README.md has no example block after its marker comment" >&2
    exit 1
fi
cflags=(-std=c11 -Wall -Wextra -Werror -g -O1 -pthread -I"$crate/include")
programs=(test_abi test_modes test_server query_bot example)
for program in "${programs[@]}"; do
    source="$crate/tests/c/$program.c"
    [[ "$program" == example ]] && source="$out/example.c"
    # shellcheck disable=SC2086  # native_libs is a list of -l flags
    cc "${cflags[@]}" "$source" -o "$out/shared/$program" \
        -L"$lib_dir" -l:libthe0.so -Wl,-rpath,"$lib_dir"
    # shellcheck disable=SC2086
    cc "${cflags[@]}" "$source" -o "$out/static/$program" "$lib_dir/libthe0.a" $native_libs
done
# Make sure each variant is what it claims to be.
readelf -d "$out/shared/test_abi" | grep -q 'NEEDED.*\[libthe0.so\]'
if readelf -d "$out/static/test_abi" | grep -q 'libthe0'; then
    echo "the static test binary depends on libthe0.so" >&2
    exit 1
fi

run_suite() { # run_suite DIR [COMMAND PREFIX...]
    local dir="$1"
    shift
    "$@" "$dir/test_abi"
    "$@" "$dir/test_modes" "$dir/query_bot" "$dir/example"
    "$@" "$dir/test_server"
}

for variant in shared static; do
    step "C suite, linked against the ${variant} library"
    run_suite "$out/$variant"
done

step "C suite under valgrind memcheck (libthe0.so)"
logs="$out/valgrind"
run_suite "$out/shared" valgrind --tool=memcheck --leak-check=full \
    --errors-for-leak-kinds=definite --error-exitcode=97 --trace-children=yes \
    --log-file="$logs/%p.log"

step "valgrind summary"
# total LABEL: the sum over every log of the number that follows LABEL ("1,234" is 1234).
total() {
    awk -v label="$1" '
        (i = index($0, label)) {
            split(substr($0, i + length(label)), words, " ")
            gsub(",", "", words[1])
            n += words[1]
        }
        END { print n + 0 }' "$logs"/*.log
}
processes=$(find "$logs" -name '*.log' | wc -l)
errors=$(total 'ERROR SUMMARY:')
invalid=$(awk '/Invalid (read|write) of size/ { n++ } END { print n + 0 }' "$logs"/*.log)
definite=$(total 'definitely lost:')
possible=$(total 'possibly lost:')
echo "processes checked:         $processes"
echo "memcheck errors:           $errors"
echo "invalid reads/writes:      $invalid"
echo "definitely lost (bytes):   $definite"
echo "possibly lost (bytes):     $possible (allowed: blocks of threads still running at exit)"
if ((processes == 0 || errors != 0 || invalid != 0 || definite != 0)); then
    echo "valgrind found problems; logs in $logs" >&2
    exit 1
fi
step "the conformance suite against the C driver (tests/conformance/drivers/c)"
c_driver="$("$root/tests/conformance/drivers/c/build.sh")"
THE0_CONFORMANCE_DRIVER="$c_driver" cargo test -p the0-conformance --test driver

echo "sdk-ffi: all tests passed"
