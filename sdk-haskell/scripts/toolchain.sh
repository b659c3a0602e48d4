#!/usr/bin/env bash
# Installs what building the0-sdk needs, from Debian, when it is missing: GHC 9.0, cabal, and
# the Haskell libraries the SDK and its tests use (aeson, hspec, network). Hackage is not used.
set -euo pipefail
need=()
command -v ghc >/dev/null || need+=(ghc)
command -v cabal >/dev/null || need+=(cabal-install)
for lib in aeson hspec network; do
    ghc-pkg --global list --simple-output "$lib" 2>/dev/null | grep -q . || need+=("libghc-$lib-dev")
done
if ((${#need[@]})); then
    echo "installing ${need[*]} (apt-get)"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi
