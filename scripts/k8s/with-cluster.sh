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
fixed="${K8S_PORT:-}${ETCD_PORT:-}${KCM_PORT:-}${SCHED_PORT:-}${KWOK_PORT:-}"
set_ports() {
  [ -n "$fixed" ] && return 0
  K8S_PORT=$(pick); ETCD_PORT=$(pick); KCM_PORT=$(pick); SCHED_PORT=$(pick); KWOK_PORT=$(pick)
  export K8S_PORT ETCD_PORT KCM_PORT SCHED_PORT KWOK_PORT
}
set_ports
. "$HERE/env.sh"
mkdir -p "$(dirname "$K8S_RUN")"
exec 9>"$K8S_RUN.lock"
flock 9
trap '"$HERE/stop.sh" --clean >/dev/null 2>&1 || true' EXIT
# A port picked free can be taken by another process before a component binds it: start again
# on new ports (unless they were given).
for attempt in 1 2 3; do
  "$HERE/stop.sh" --clean >/dev/null 2>&1 || true
  if "$HERE/start.sh"; then break; fi
  [ "$attempt" = 3 ] || [ -n "$fixed" ] && { echo "with-cluster.sh: the control plane did not start" >&2; exit 1; }
  echo "with-cluster.sh: start failed (attempt $attempt); again on other ports" >&2
  set_ports
done
. "$K8S_RUN/env"
"$@"
