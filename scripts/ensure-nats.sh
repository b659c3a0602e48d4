#!/usr/bin/env bash
# Prints the path of a nats-server binary (the message bus of upstream the0 deployments), built
# once with `go install` from the Go module proxy and cached outside the clone ($THE0_CACHE/bin).
# The orchestrator's drop-in tests start it on 127.0.0.1 and a port of their own.
set -euo pipefail

NATS_SERVER_VERSION=${NATS_SERVER_VERSION:-v2.15.2}

exec "$(dirname "$0")/go-install-cached.sh" nats-server github.com/nats-io/nats-server/v2 "$NATS_SERVER_VERSION"
