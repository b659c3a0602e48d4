#!/usr/bin/env bash
# The Python SDK's tests, from a clean clone on a fresh machine (the single entry point for make):
#   1. a private venv with maturin, pytest and mypy; `pip install ./sdk-python` (builds the extension)
#   2. a wheel with `maturin build`, checked for the files a user needs
#   3. mypy's stubtest (the0/_native.pyi against the extension); pytest: the SDK
#      (sdk-python/tests), the upstream-style bot and suite (tests/upstream/python) and the
#      example bot (examples/python-sma-crossover)
#   4. the shared conformance suite against the Python driver
# Needs python3 (>= 3.11, with venv), cargo, and access to PyPI.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"

the0_python_venv

echo "== maturin build (wheel)"
WHEELS="$CACHE/wheels-python"
rm -rf "$WHEELS"
(cd "$ROOT/sdk-python" && "$VENV/bin/maturin" build --release --quiet --out "$WHEELS")
"$PY" - "$WHEELS" <<'PY'
import pathlib, sys, zipfile
wheels = sorted(pathlib.Path(sys.argv[1]).glob("the0_sdk-*.whl"))
assert len(wheels) == 1, wheels
names = zipfile.ZipFile(wheels[0]).namelist()
for needed in ["the0/__init__.py", "the0/state.py", "the0/query.py", "the0/errors.py",
               "the0/py.typed", "the0/_native.pyi"]:
    assert needed in names, f"{needed} missing from {wheels[0].name}: {names}"
assert any(n.startswith("the0/_native") and n.endswith(".so") for n in names), names
print(f"wheel ok: {wheels[0].name}")
PY

echo "== cargo build: the Rust driver and the Rust example bot (for the cross-SDK tests)"
(cd "$ROOT" && cargo build -q -p the0-conformance --bin the0-driver-rust -p rust-sma-crossover --bin sma-bot)
TARGET="$(the0_target_dir)"
export THE0_RUST_DRIVER="$TARGET/debug/the0-driver-rust"
export THE0_RUST_SMA_BOT="$TARGET/debug/sma-bot"

echo "== mypy stubtest: the0/_native.pyi matches the extension"
(cd "$CACHE" && "$PY" -m mypy.stubtest the0._native)

echo "== pytest: sdk-python"
(cd "$ROOT/sdk-python" && "$PY" -m pytest -q -p no:cacheprovider tests)

echo "== pytest: tests/upstream/python (a bot and its suite written for upstream's SDK, unchanged)"
(cd "$ROOT/tests/upstream/python" && "$PY" -m pytest -q -p no:cacheprovider tests)

echo "== pytest: examples/python-sma-crossover"
(cd "$ROOT/examples/python-sma-crossover" && "$PY" -m pytest -q -p no:cacheprovider tests)

echo "== conformance suite against the Python driver"
(cd "$ROOT" && THE0_CONFORMANCE_DRIVER="$PY $ROOT/tests/conformance/drivers/python/driver.py" \
    cargo test -q -p the0-conformance --test driver)

echo "== python SDK: all tests passed"
