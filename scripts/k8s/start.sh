#!/usr/bin/env bash
# Start a loopback-only Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and (KWOK=1) kwok with one fake node "kwok-node-0", so Pods get scheduled and
# marked Running, and Job pods marked Succeeded. With KWOK=0 Pods stay Pending (no kubelet).
# Builds first if needed (build.sh is a no-op when cached). Writes $K8S_RUN/env:
#   source $K8S_RUN/env   ->  KUBECONFIG (admin, token auth, CA file), K8S_SERVER, K8S_TOKEN
# Reuses $K8S_RUN/etcd data if present; `stop.sh --clean` wipes it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/env.sh"
"$HERE/build.sh" >&2
B=$K8S_BIN; R=$K8S_RUN; P=$R/pki
mkdir -p "$R/logs" "$R/etcd"
"$HERE/gen-pki.sh" "$P"
ms() { date +%s%3N; }
T0=$(ms)

for port in $K8S_PORT $ETCD_PORT $((ETCD_PORT+10)) $((ETCD_PORT+20)) $KCM_PORT $SCHED_PORT $KWOK_PORT; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "start.sh: 127.0.0.1:$port already in use (running already? stop.sh)" >&2; exit 1; fi
done

bg() { # name cmd...   (no shell in between: $! is the daemon's own pid)
  local n=$1; shift
  nohup "$@" >"$R/logs/$n.log" 2>&1 </dev/null &
  echo $! >"$R/$n.pid"
}
wait_until() { # name timeout_s cmd...   poll every 100ms; fail with the log tail if the daemon died
  local n=$1 t=$2; shift 2
  local end=$(( $(ms) + t*1000 ))
  until "$@" >/dev/null 2>&1; do
    if [ -f "$R/$n.pid" ] && ! kill -0 "$(cat "$R/$n.pid")" 2>/dev/null; then
      echo "start.sh: $n exited; tail of $R/logs/$n.log:" >&2; tail -20 "$R/logs/$n.log" >&2; exit 1; fi
    if [ "$(ms)" -gt "$end" ]; then echo "start.sh: $n not ready after ${t}s (see $R/logs/$n.log)" >&2; exit 1; fi
    sleep 0.1
  done
  echo "  $n ready at +$(( $(ms) - T0 ))ms"
}
is_ok() { [ "$(curl -sk --max-time 2 "$1")" = ok ]; }
etcd_ok() { curl -s --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
K="$B/kubectl --kubeconfig $P/admin.kubeconfig"

echo "start.sh: control plane v$K8S_VERSION in $R"
ETCD_EXTRA=""   # throwaway test data: skip fsync where supported (etcd >= 3.5; Debian's 3.4 lacks it)
if "$ETCD_BIN" --help 2>&1 | grep -- --unsafe-no-fsync >/dev/null; then ETCD_EXTRA=--unsafe-no-fsync; fi
bg etcd "$ETCD_BIN" --name k8s-cp --data-dir "$R/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT+10))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT+10))" \
  --initial-cluster "k8s-cp=http://127.0.0.1:$((ETCD_PORT+10))" --listen-metrics-urls "http://127.0.0.1:$((ETCD_PORT+20))" \
  --quota-backend-bytes 2147483648 $ETCD_EXTRA
wait_until etcd 30 etcd_ok

# --endpoint-reconciler-type=none: the 'kubernetes' Service endpoint would be 127.0.0.1, which Endpoints
# validation rejects; nothing here needs in-cluster access to the apiserver through that Service.
bg kube-apiserver "$B/kube-apiserver" \
  --bind-address=127.0.0.1 --secure-port="$K8S_PORT" --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" --service-cluster-ip-range=10.0.0.0/24 \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" --client-ca-file="$P/ca.crt" \
  --token-auth-file="$P/tokens.csv" --authorization-mode=RBAC --allow-privileged=true \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key"
wait_until kube-apiserver 120 is_ok "https://127.0.0.1:$K8S_PORT/readyz"

bg kube-controller-manager "$B/kube-controller-manager" --kubeconfig="$P/kcm.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" --cluster-name=k8s-cp
bg kube-scheduler "$B/kube-scheduler" --kubeconfig="$P/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --leader-elect=false
wait_until kube-controller-manager 60 is_ok "https://127.0.0.1:$KCM_PORT/healthz"
wait_until kube-scheduler 60 is_ok "https://127.0.0.1:$SCHED_PORT/healthz"

if [ "$KWOK" = 1 ]; then
  bg kwok "$B/kwok" --kubeconfig="$P/admin.kubeconfig" -c "$B/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr=10.244.0.0/24 --node-ip=127.0.0.1 --server-address="127.0.0.1:$KWOK_PORT"
  $K apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: kwok-node-0, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
EOF
  wait_until kwok 60 $K wait --for=condition=Ready node/kwok-node-0 --timeout=1s
fi
# The ServiceAccount admission plugin rejects Pods until KCM has created the namespace's "default" SA.
SA_OK() { $K get serviceaccount default -n default; }
wait_until default-serviceaccount 60 SA_OK

# The namespace the orchestrator's manifests use: also wait for its default ServiceAccount.
$K create namespace the0 >/dev/null
SA_THE0() { $K get serviceaccount default -n the0; }
wait_until the0-serviceaccount 60 SA_THE0

cat >"$R/env" <<EOF
export KUBECONFIG=$P/admin.kubeconfig
export K8S_SERVER=https://127.0.0.1:$K8S_PORT
export K8S_TOKEN=$(cat "$P/admin.token")
export K8S_CA=$P/ca.crt
export K8S_RUN=$R
export PATH=$B:\$PATH
EOF
echo "start.sh: ready in $(( $(ms) - T0 ))ms; source $R/env  (KUBECONFIG=$P/admin.kubeconfig)"
for n in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
  [ -f "$R/$n.pid" ] && echo "  $n pid $(cat "$R/$n.pid") rss $(( $(ps -o rss= -p "$(cat "$R/$n.pid")" 2>/dev/null || echo 0) / 1024 ))MiB"
done
exit 0
