# Sourced by test.sh and bench.sh: a private virtual environment with maturin, pytest and the SDK
# installed from this checkout (`pip install ./sdk-python`, which builds the0._native in release).
#
#   THE0_CACHE        cache root (default ~/.cache/the0-runtime); the venv is $THE0_CACHE/venv-python
#   PYTHON            interpreter used to create the venv (default python3; CPython >= 3.11)
#   CARGO_TARGET_DIR  honoured by cargo and maturin when set

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${THE0_CACHE:-$HOME/.cache/the0-runtime}"
VENV="$CACHE/venv-python"
PY="$VENV/bin/python"

the0_python_venv() {
    local python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "error: $python is older than Python 3.11" >&2
        return 1
    fi
    if [ ! -x "$PY" ]; then
        mkdir -p "$CACHE"
        if ! "$python" -m venv "$VENV"; then
            # Debian splits venv/ensurepip out of python3.
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
                rm -rf "$VENV"
                "$python" -m venv "$VENV"
            else
                echo "error: cannot create a venv with $python (install python3-venv)" >&2
                return 1
            fi
        fi
    fi
    "$PY" -m pip install -q --disable-pip-version-check "maturin>=1.5,<2" "pytest>=7" "mypy>=1.10"
    echo "== pip install ./sdk-python (builds the0._native, release)"
    (cd "$ROOT" && "$PY" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./sdk-python)
}

# The cargo target directory of the workspace (CARGO_TARGET_DIR or the workspace's own).
the0_target_dir() {
    (cd "$ROOT" && cargo metadata --format-version 1 --no-deps) |
        "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}
