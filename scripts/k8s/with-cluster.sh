#!/usr/bin/env bash
# Runs a command against a fresh Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok as the node; built once and cached in
# ~/.cache/k8s-cp), then stops it and wipes its state whatever happens:
#   scripts/k8s/with-cluster.sh cargo test -p the0-orchestrator --test k8s -- --ignored
# One cluster at a time per run directory (a lock). Every component listens on 127.0.0.1 only, on
# ports picked free for the run unless K8S_PORT, ETCD_PORT, ... are set. The command sees
# KUBECONFIG (admin), K8S_SERVER, K8S_TOKEN, K8S_CA, K8S_RUN and kubectl on PATH.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { echo "usage: with-cluster.sh COMMAND..." >&2; exit 2; }
free() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 1 || return 0; }
pick() { # a free port p with p+10 and p+20 free too (etcd's peer and metrics ports)
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 30000 ))
    free "$p" && free $((p+10)) && free $((p+20)) && { echo "$p"; return 0; }
  done
  echo "with-cluster.sh: no free port" >&2; return 1
}
export K8S_PORT=${K8S_PORT:-$(pick)}
export ETCD_PORT=${ETCD_PORT:-$(pick)}
export KCM_PORT=${KCM_PORT:-$(pick)}
export SCHED_PORT=${SCHED_PORT:-$(pick)}
export KWOK_PORT=${KWOK_PORT:-$(pick)}
. "$HERE/env.sh"
mkdir -p "$(dirname "$K8S_RUN")"
exec 9>"$K8S_RUN.lock"
flock 9
trap '"$HERE/stop.sh" --clean >/dev/null 2>&1 || true' EXIT
"$HERE/stop.sh" --clean >/dev/null 2>&1 || true
"$HERE/start.sh"
. "$K8S_RUN/env"
"$@"
