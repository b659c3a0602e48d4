#!/usr/bin/env bash
# `make test-orchestrator` / `make bench-orchestrator`: the orchestrator against a real Docker
# engine, on a machine that may have none running yet.
#
#   orchestrator/tests/run.sh test  AGENT_BINARY [cargo test args...]
#   orchestrator/tests/run.sh bench AGENT_BINARY
#
# 1. A Docker engine: scripts/dockerd.sh starts one when none answers (and stops it at the end).
# 2. The universal image built from AGENT_BINARY under a tag private to this run
#    (the0-runtime:orch-<run>, images/build.sh; the base root comes from the cache).
# 3. The tests (or the benchmark); every orchestrator they start is named o<run>-<test>, and
#    labels its containers with that name.
# 4. Cleanup: every container of this run's orchestrators, and the image tags.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mode=${1:?usage: run.sh test|bench AGENT_BINARY [ARGS...]}
agent=${2:?usage: run.sh test|bench AGENT_BINARY [ARGS...]}
shift 2

run="$(date +%s)$$"
tag="orch-$run"
dockerd_pid=
cleanup() {
    local status=$?
    {
        docker ps -aq --filter label=the0.instance --format '{{.ID}} {{.Label "the0.instance"}}' |
            awk -v prefix="o$run-" 'index($2, prefix) == 1 {print $1}' | xargs -r docker rm -f -v
        docker image rm "the0-runtime:$tag" "the0-agent:$tag"
    } >/dev/null 2>&1 || true
    scripts/dockerd.sh down "$dockerd_pid"
    exit "$status"
}
trap cleanup EXIT
dockerd_pid=$(scripts/dockerd.sh up)

THE0_IMAGE_TAG=$tag images/build.sh "$agent" >/dev/null
export THE0_TEST_IMAGE="the0-runtime:$tag" THE0_TEST_RUN=$run THE0_AGENT_STATIC=$agent

case $mode in
test) cargo test -p the0-orchestrator "$@" ;;
bench) cargo bench -p the0-orchestrator --bench orchestrator "$@" ;;
*) echo "run.sh: unknown mode $mode (test or bench)" >&2 && exit 2 ;;
esac
