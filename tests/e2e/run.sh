#!/usr/bin/env bash
# `make test-images` / `make bench-images`: the images end to end, on a machine that may have no
# Docker engine running yet.
#
#   tests/e2e/run.sh test  AGENT_BINARY [cargo test args...]
#   tests/e2e/run.sh bench AGENT_BINARY
#
# 1. A Docker engine: scripts/dockerd.sh starts one when none answers (and stops it at the end).
# 2. Both images, built from AGENT_BINARY under a tag private to this run (the0-runtime:e2e-<run>,
#    the0-agent:e2e-<run>), so that tests on the same engine never see each other's images; the
#    base root comes from the cache (images/build.sh).
# 3. MinIO's binary (scripts/ensure-minio.sh), then the tests or the benchmark.
# 4. Cleanup: every container and network labelled with this run, and the two image tags.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mode=${1:?usage: run.sh test|bench AGENT_BINARY [ARGS...]}
agent=${2:?usage: run.sh test|bench AGENT_BINARY [ARGS...]}
shift 2

run="$(date +%s)-$$"
tag="e2e-$run"
dockerd_pid=
cleanup() {
    local status=$?
    local filter="label=the0.e2e.run=$run"
    # shellcheck disable=SC2046 # one word per id
    { docker ps -aq --filter "$filter" | xargs -r docker rm -f -v
      docker network ls -q --filter "$filter" | xargs -r docker network rm
      docker image rm "the0-runtime:$tag" "the0-agent:$tag"; } >/dev/null 2>&1 || true
    scripts/dockerd.sh down "$dockerd_pid"
    exit "$status"
}
trap cleanup EXIT
dockerd_pid=$(scripts/dockerd.sh up)

THE0_IMAGE_TAG=$tag images/build.sh "$agent" >/dev/null
export THE0_MINIO_BIN
THE0_MINIO_BIN=$(scripts/ensure-minio.sh)
export THE0_E2E_RUN=$run THE0_E2E_RUNTIME_IMAGE="the0-runtime:$tag" THE0_E2E_AGENT_IMAGE="the0-agent:$tag"

case $mode in
test) cargo test -p the0-e2e "$@" ;;
bench) cargo bench -p the0-e2e --bench container_start "$@" ;;
*) echo "run.sh: unknown mode $mode (test or bench)" >&2 && exit 2 ;;
esac
