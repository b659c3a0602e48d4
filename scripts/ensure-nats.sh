#!/usr/bin/env bash
# Prints the path of a nats-server binary (the message bus of upstream the0 deployments), built
# once with `go install` from the Go module proxy and cached outside the clone ($THE0_CACHE/bin).
# The orchestrator's drop-in tests start it on 127.0.0.1 and a port of their own.
set -euo pipefail

NATS_SERVER_VERSION=${NATS_SERVER_VERSION:-v2.15.2}

cache=${THE0_CACHE:-$HOME/.cache/the0-runtime}
bin="$cache/bin/nats-server"
if [[ -x "$bin" ]]; then
    echo "$bin"
    exit 0
fi
command -v go >/dev/null || { echo "ensure-nats: Go is required to build nats-server" >&2; exit 1; }
echo "ensure-nats: building nats-server $NATS_SERVER_VERSION (once; about a minute)" >&2
mkdir -p "$cache/bin" "$cache/go"
GOPATH="$cache/go" GOBIN="$cache/bin" GOFLAGS=-modcacherw CGO_ENABLED=0 \
    go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION" >&2
echo "$bin"
