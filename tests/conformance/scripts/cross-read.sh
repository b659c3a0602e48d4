#!/usr/bin/env bash
# The cross-reading case of the conformance suite: state written by each SDK's driver (Rust, C,
# Python, Node, C# on Mono and on .NET 8, Haskell, Scala, C++) is read back by every other's, and
# every writer leaves byte-identical files.
# Run by `make test-conformance` after the SDKs' own targets, which build and install what the
# drivers load: the Python SDK in $THE0_CACHE/venv-python, sdk-node's dist and addon, the C# SDK
# (the Scala and C++ drivers' build.sh build what they need).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
cache="${THE0_CACHE:-$HOME/.cache/the0-runtime}"
python="$cache/venv-python/bin/python"
[ -x "$python" ] || { echo "cross-read.sh: $python is missing: run make test-python first" >&2; exit 1; }
[ -f sdk-node/dist/index.js ] && [ -f sdk-node/native/the0.node ] ||
    { echo "cross-read.sh: sdk-node is not built: run make test-node first" >&2; exit 1; }

rust="$(cargo build -q -p the0-conformance --bin the0-driver-rust --message-format=json |
    "$python" -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "the0-driver-rust" and m.get("executable"):
        print(m["executable"])')"
c="$(tests/conformance/drivers/c/build.sh)"
csharp_mono="$(tests/conformance/drivers/csharp/build.sh mono)"
csharp_dotnet="$(tests/conformance/drivers/csharp/build.sh dotnet)"
haskell="$(tests/conformance/drivers/haskell/build.sh)"
scala="$(tests/conformance/drivers/scala/build.sh)"
cpp="$(tests/conformance/drivers/cpp/build.sh)"
export THE0_CONFORMANCE_DRIVERS="rust=$rust;c=$c;python=$python $root/tests/conformance/drivers/python/driver.py;node=node $root/tests/conformance/drivers/node/driver.js;csharp-mono=$csharp_mono;csharp-dotnet=$csharp_dotnet;haskell=$haskell;scala=$scala;cpp=$cpp"
echo "drivers: $THE0_CONFORMANCE_DRIVERS"
cargo test -p the0-conformance --test cross
