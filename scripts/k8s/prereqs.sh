#!/usr/bin/env bash
# Installs what the Kubernetes tests need on a fresh machine (Go must be present: the control plane
# and MinIO are built from the Go module proxy), then builds the control plane once (cached in
# ~/.cache/k8s-cp; a cold build takes 10-15 min on 2 cores).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
missing=()
for tool in openssl curl flock; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=()
  for tool in "${missing[@]}"; do case $tool in flock) pkgs+=(util-linux) ;; *) pkgs+=("$tool") ;; esac; done
  echo "prereqs.sh: installing ${pkgs[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${pkgs[@]}" >&2
fi
command -v go >/dev/null || { echo "prereqs.sh: Go (>= 1.26) is required to build the control plane" >&2; exit 1; }
nice -n 10 "$HERE/build.sh"
