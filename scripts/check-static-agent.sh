#!/usr/bin/env bash
# Checks the static agent binary: no dynamic loader, no shared libraries, and it runs in an
# empty root directory (chroot) — what a FROM-scratch image or a distroless container gives it.
set -euo pipefail
bin=${1:?usage: check-static-agent.sh PATH-TO-the0-agent}

if readelf -l "$bin" | grep -q 'INTERP'; then
    echo "check-static-agent: $bin needs a dynamic loader" >&2
    exit 1
fi
if readelf -d "$bin" 2>/dev/null | grep -q 'NEEDED'; then
    echo "check-static-agent: $bin needs shared libraries:" >&2
    readelf -d "$bin" | grep NEEDED >&2
    exit 1
fi
if command -v file >/dev/null; then
    kind=$(file -b "$bin")
    echo "file: $kind"
    case $kind in
    *"statically linked"*) ;;
    *) echo "check-static-agent: file(1) does not call $bin statically linked" >&2; exit 1 ;;
    esac
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cp "$bin" "$root/the0-agent"
echo "in an empty root: $(chroot "$root" /the0-agent version)"
echo "size: $(stat -c %s "$bin") bytes"
