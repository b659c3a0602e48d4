#!/usr/bin/env bash
# Builds the Java probe into OUT_DIR/probe.jar (javac --release 17, jar).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../../../images/lib.sh"
out=${1:?usage: build.sh OUT_DIR}
command -v javac >/dev/null && command -v jar >/dev/null || images_apt_install openjdk-17-jdk-headless
classes=$(mktemp -d)
trap 'rm -rf "$classes"' EXIT
javac --release 17 -d "$classes" "$(dirname "${BASH_SOURCE[0]}")/Probe.java"
jar --create --file "$out/probe.jar" --main-class Probe -C "$classes" .
