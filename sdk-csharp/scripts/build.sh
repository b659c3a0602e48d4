#!/usr/bin/env bash
# Builds the C# SDK for Mono (and for running on .NET 8 as a Mono-compiled assembly) into
# $CARGO_TARGET_DIR/the0-csharp/lib and prints that folder:
#   The0.Sdk.dll (+ The0.Sdk.xml)   the SDK, compiled by mcs from src/ (with src/Compat)
#   libthe0.so                      the core's C ABI (cargo build -p the0-ffi --release)
#   Newtonsoft.Json.dll             Debian's, for the System.Text.Json subset of src/Compat
#   System.Security.Permissions.dll shim/: what Newtonsoft.Json needs on .NET 8
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
csharp_tools

cargo build -q --release -p the0-ffi >&2
mkdir -p "$LIB"
cp "$CARGO_TARGET_DIR/release/libthe0.so" "$LIB/"
cp "$NEWTONSOFT" "$LIB/"
mapfile -t sources < <(find "$SDK_DIR/src" -name '*.cs' | sort)
mcs "${MCS_FLAGS[@]}" -target:library -unsafe -out:"$LIB/The0.Sdk.dll" -doc:"$LIB/The0.Sdk.xml" \
    -r:"$NEWTONSOFT" -r:System.Numerics "${sources[@]}" >&2
# CS0436: the shim declares types Mono's mscorlib also has; it is never loaded on Mono.
mcs "${MCS_FLAGS[@]}" -nowarn:436 -target:library -out:"$LIB/System.Security.Permissions.dll" \
    "$SDK_DIR/shim/System.Security.Permissions.cs" >&2
echo "$LIB"
