#!/usr/bin/env bash
# Builds the C++ probe into OUT_DIR/probe (g++, dynamically linked against libstdc++).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../../../images/lib.sh"
images_need g++ g++
g++ -std=c++17 -O2 -o "${1:?usage: build.sh OUT_DIR}/probe" "$(dirname "${BASH_SOURCE[0]}")/probe.cpp"
