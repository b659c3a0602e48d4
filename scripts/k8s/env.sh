# A real Kubernetes control plane for the orchestrator's Kubernetes tests (see orchestrator/README.md).
# Sourced by build.sh / start.sh / stop.sh / with-cluster.sh. Override any of these in the environment.
K8S_VERSION=${K8S_VERSION:-1.37.2}          # k8s.io/kubernetes version (go 1.26.0 directive -> fits go1.26)
KWOK_VERSION=${KWOK_VERSION:-0.8.0}         # sigs.k8s.io/kwok (fake kubelet); KWOK=0 to skip
KWOK=${KWOK:-1}
# Components to build from k8s.io/kubernetes/cmd/*; kubelet is not needed (kwok fakes nodes).
K8S_COMPONENTS=${K8S_COMPONENTS:-"kube-apiserver kube-controller-manager kube-scheduler kubectl"}
# Build cache: generated Go module + binaries. Go's own caches (GOMODCACHE, GOCACHE) are used as usual.
K8S_CACHE=${K8S_CACHE:-$HOME/.cache/k8s-cp}
K8S_BIN=${K8S_BIN:-$K8S_CACHE/bin-v$K8S_VERSION}
# Runtime state (pki, etcd data, logs, pids). Wiped by stop.sh --clean.
K8S_RUN=${K8S_RUN:-/tmp/the0-k8s-cp}
K8S_PORT=${K8S_PORT:-6443}                  # kube-apiserver https port on 127.0.0.1
ETCD_PORT=${ETCD_PORT:-23790}               # etcd client port (peer = +10, metrics = +20)
KCM_PORT=${KCM_PORT:-10257}
SCHED_PORT=${SCHED_PORT:-10259}
KWOK_PORT=${KWOK_PORT:-10247}
# etcd binary: the one built from go.etcd.io/etcd/server/v3 (version pinned by k8s' go.mod, 3.7.0 for 1.37.2),
# or e.g. ETCD_BIN=/usr/bin/etcd (Debian etcd-server 3.4.23).
ETCD_BIN=${ETCD_BIN:-$K8S_BIN/etcd}
export K8S_VERSION KWOK_VERSION KWOK K8S_COMPONENTS K8S_CACHE K8S_BIN K8S_RUN K8S_PORT ETCD_PORT KCM_PORT SCHED_PORT KWOK_PORT ETCD_BIN
