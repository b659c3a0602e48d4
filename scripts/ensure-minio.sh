#!/usr/bin/env bash
# Prints the path of a MinIO server binary — the S3 server the0 deployments run — building it
# once with `go install` from the Go module proxy and caching it outside the clone
# ($THE0_CACHE/bin, default ~/.cache/the0-runtime/bin). The agent's S3 tests start it.
set -euo pipefail

# The MinIO commit the tests are known to pass with (go install needs a pseudo-version: MinIO
# publishes no Go-module tags).
MINIO_MODULE_VERSION=${MINIO_MODULE_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}

exec "$(dirname "$0")/go-install-cached.sh" minio github.com/minio/minio "$MINIO_MODULE_VERSION"
