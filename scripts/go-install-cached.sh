#!/usr/bin/env bash
# Prints the path of a Go tool built once with `go install MODULE@VERSION` from the Go module
# proxy and cached outside the clone ($THE0_CACHE/bin, default ~/.cache/the0-runtime/bin).
#
# Usage: go-install-cached.sh BINARY MODULE VERSION   (a log line says when it builds)
set -euo pipefail
name=${1:?usage: go-install-cached.sh BINARY MODULE VERSION}
module=${2:?usage: go-install-cached.sh BINARY MODULE VERSION}
version=${3:?usage: go-install-cached.sh BINARY MODULE VERSION}

cache=${THE0_CACHE:-$HOME/.cache/the0-runtime}
bin="$cache/bin/$name"
if [[ -x "$bin" ]]; then
    echo "$bin"
    exit 0
fi
command -v go >/dev/null || { echo "go-install-cached: Go is required to build $name" >&2; exit 1; }
echo "go-install-cached: building $name ($module@$version; once, a few minutes)" >&2
mkdir -p "$cache/bin" "$cache/go"
GOPATH="$cache/go" GOBIN="$cache/bin" GOFLAGS=-modcacherw CGO_ENABLED=0 \
    go install "$module@$version" >&2
echo "$bin"
