#!/usr/bin/env bash
# A Docker engine for the tests, started only when none answers and stopped only by whoever
# started it.
#
#   scripts/dockerd.sh up          makes sure a daemon answers: installs docker.io with apt when
#                                  docker/dockerd are missing (as root), starts dockerd when no
#                                  daemon answers, and waits until it does. Prints the PID of the
#                                  daemon it started, or nothing when one was already running.
#   scripts/dockerd.sh down [PID]  stops the daemon `up` started (its printed PID) and waits for it
#                                  to exit; with no PID (nothing was started) it does nothing.
#   scripts/dockerd.sh with CMD... runs CMD with a daemon up: `up`, CMD, then `down` of what `up`
#                                  started, whatever CMD's outcome; exits with CMD's status.
#
# Typical use in a test script:
#
#   dockerd_pid=$(scripts/dockerd.sh up)
#   trap 'scripts/dockerd.sh down "$dockerd_pid"' EXIT
#
#   DOCKER_HOST   honoured by docker; with it set, `up` only checks that daemon answers
#   THE0_DOCKERD_LOG  where a started daemon logs (default: $THE0_CACHE/dockerd.log, replaced at
#                     each start; THE0_CACHE defaults to ~/.cache/the0-runtime)
set -euo pipefail

die() {
    echo "dockerd.sh: $*" >&2
    exit 1
}

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

install_docker() {
    command -v docker >/dev/null && command -v dockerd >/dev/null && return
    [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null ||
        die "docker is not installed; install Debian's docker.io (needs root and apt-get)"
    echo "dockerd.sh: installing docker.io" >&2
    apt-get update -qq
    # The package's own service start fails without systemd; the daemon is started below.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
}

up() {
    install_docker
    answers && return 0
    [[ -z ${DOCKER_HOST:-} ]] || die "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST"
    [[ $(id -u) == 0 ]] || die "no Docker engine answers, and starting dockerd needs root"
    local log=${THE0_DOCKERD_LOG:-${THE0_CACHE:-$HOME/.cache/the0-runtime}/dockerd.log}
    mkdir -p "$(dirname "$log")"
    local pidfile
    pidfile=$(mktemp "${TMPDIR:-/tmp}/the0-dockerd.XXXXXX.pid")
    # A session of its own: the daemon outlives this script and the terminal's Ctrl-C.
    # shellcheck disable=SC2016 # $$ is the inner shell's PID, which exec hands to dockerd
    setsid -f sh -c 'echo $$ >"$1"; exec dockerd' sh "$pidfile" >"$log" 2>&1 </dev/null
    local pid= tries=0
    until [[ -n $pid ]]; do
        pid=$(cat "$pidfile")
        [[ -n $pid ]] || ((tries++ < 500)) || die "dockerd did not start (log: $log)"
        [[ -n $pid ]] || sleep 0.01
    done
    rm -f "$pidfile"
    echo "dockerd.sh: started dockerd (pid $pid, log $log); waiting until it answers" >&2
    local waited=0
    until answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$log" >&2
            die "dockerd exited before it answered (log: $log)"
        fi
        ((waited++ < 600)) || { kill "$pid"; die "dockerd did not answer within 60 s (log: $log)"; }
        sleep 0.1
    done
    echo "$pid"
}

down() {
    local pid=${1:-}
    [[ -n $pid ]] || return 0
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]] || die "process $pid is not a dockerd"
    kill -TERM "$pid"
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        ((waited++ < 300)) || die "dockerd (pid $pid) did not stop within 30 s"
        sleep 0.1
    done
    echo "dockerd.sh: stopped dockerd (pid $pid)" >&2
}

with() {
    (($#)) || die "usage: dockerd.sh with COMMAND [ARG...]"
    local pid
    pid=$(up)
    # shellcheck disable=SC2064 # the PID is known now
    trap "down '$pid'" EXIT
    "$@"
}

case ${1:-} in
up) up ;;
down) down "${2:-}" ;;
with) shift && with "$@" ;;
*) die "usage: dockerd.sh up | down [PID] | with COMMAND [ARG...]" ;;
esac
