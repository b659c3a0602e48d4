#!/usr/bin/env bash
# The Node SDK's single test entry point, for a clean clone on a fresh machine (needs node/npm
# and cargo): installs npm dependencies, builds the napi addon (cargo) and the TypeScript
# package, runs the SDK's tests (node --test, then vitest in worker threads), the upstream-style
# bot's vitest and jest suites (tests/upstream/node), the example bot's tests, and the
# conformance suite against the Node driver. Honours CARGO_TARGET_DIR and
# THE0_CACHE (vitest is installed there, outside the clone).
set -euo pipefail

SDK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$SDK_DIR/.." && pwd)"
EXAMPLE_DIR="$ROOT/examples/typescript-price-alerts"
DRIVER="$ROOT/tests/conformance/drivers/node/driver.js"

step() { printf '\n==> %s\n' "$*"; }

for tool in node npm cargo; do
  command -v "$tool" >/dev/null || { echo "test.sh: $tool is required" >&2; exit 1; }
done
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

step "sdk-node: npm ci (installs TypeScript; builds what is missing)"
cd "$SDK_DIR"
npm ci

step "sdk-node: build the addon (cargo, release) and the TypeScript package"
npm run build

step "build the Rust SDK's conformance driver (for byte-for-byte state comparisons)"
cd "$ROOT"
RUST_DRIVER="$(cargo build -p the0-conformance --bin the0-driver-rust --message-format=json-render-diagnostics |
  node -e '
    let out = "";
    process.stdin.on("data", (d) => (out += d)).on("end", () => {
      for (const line of out.split("\n")) {
        if (!line.startsWith("{")) continue;
        const m = JSON.parse(line);
        if (m.reason === "compiler-artifact" && m.target.name === "the0-driver-rust" && m.executable) {
          process.stdout.write(m.executable);
        }
      }
    });')"
[ -x "$RUST_DRIVER" ] || { echo "test.sh: the Rust driver was not built" >&2; exit 1; }
echo "$RUST_DRIVER"

step "sdk-node: node --test"
cd "$SDK_DIR"
THE0_RUST_DRIVER="$RUST_DRIVER" npm test

step "sdk-node: vitest in worker threads (--pool=threads): process.env and console are the test's"
# vitest is installed once into a cache outside the clone, pinned.
VITEST_DIR="${THE0_CACHE:-$HOME/.cache/the0-runtime}/npm-vitest"
VITEST_VERSION=3.2.7
if [ ! -x "$VITEST_DIR/node_modules/.bin/vitest" ] ||
  [ "$(node -p "require('$VITEST_DIR/node_modules/vitest/package.json').version")" != "$VITEST_VERSION" ]; then
  mkdir -p "$VITEST_DIR"
  [ -f "$VITEST_DIR/package.json" ] || echo '{"private": true}' >"$VITEST_DIR/package.json"
  (cd "$VITEST_DIR" && npm install --no-save "vitest@$VITEST_VERSION")
fi
"$VITEST_DIR/node_modules/.bin/vitest" run --root "$SDK_DIR/vitest" --pool=threads --globals

step "tests/upstream/node: a bot with a vitest and a jest suite written for upstream's SDK, unchanged"
# As its author's project would: the SDK installed under upstream's package name (a file:
# dependency), the runners upstream's package.json names (vitest ^1, whose default pool runs each
# test file in a worker thread) and jest 29 (each test file in its own VM context), and tsc
# checking the suite's TypeScript against the SDK's types.
cd "$ROOT/tests/upstream/node"
npm ci
npm test

step "examples/typescript-price-alerts: npm ci, build, node --test"
cd "$EXAMPLE_DIR"
npm ci
npm test

step "conformance suite against the Node driver"
cd "$ROOT"
THE0_CONFORMANCE_DRIVER="node $DRIVER" cargo test -p the0-conformance --test driver

step "Node SDK: all tests passed"
