#!/usr/bin/env bash
# Builds the native-libraries probe into OUT_DIR/probe (gcc, linked against libgmp and libffi).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../../../images/lib.sh"
images_need gcc gcc
[[ -e /usr/include/x86_64-linux-gnu/gmp.h || -e /usr/include/gmp.h ]] || images_apt_install libgmp-dev
[[ -e /usr/include/x86_64-linux-gnu/ffi.h || -e /usr/include/ffi.h ]] || images_apt_install libffi-dev
gcc -O2 -o "${1:?usage: build.sh OUT_DIR}/probe" "$(dirname "${BASH_SOURCE[0]}")/probe.c" -lgmp -lffi
