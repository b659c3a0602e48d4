#!/usr/bin/env bash
# Packager for `python3.11` bots, as upstream's deploy does it: the bot's files plus its
# dependencies vendored under vendor/ (the agent puts /bot/vendor first on PYTHONPATH).
#
# vendor/ gets the bot's requirements.txt, if it has one, and the `the0` SDK from this checkout: a
# wheel built from sdk-python with maturin (release; its extension the0._native is abi3 for
# CPython >= 3.11 on x86_64 glibc). The SDK wheel is installed last, so a requirements.txt naming
# upstream's the0-sdk still gets this one. Tests, caches and virtual environments stay out.
#
# Usage (from package-bot.sh): python3.11.sh BOT_DIR STAGE_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bot_dir=$1 stage=$2

tar -C "$bot_dir" --exclude=./tests --exclude=./vendor --exclude=__pycache__ --exclude=.pytest_cache \
    --exclude=./.venv --exclude=./venv --exclude=./.git -cf - . | tar -C "$stage" -xf -

python=$(images_python "maturin>=1.5,<2")
pip() { "$python" -m pip --disable-pip-version-check -q "$@"; }
if [[ -f $bot_dir/requirements.txt ]]; then
    images_step "pip install --target vendor -r requirements.txt"
    pip install --target "$stage/vendor" -r "$bot_dir/requirements.txt"
fi
images_step "maturin build --release (sdk-python: the the0 wheel)"
wheels="$stage/.wheels"
(cd "$REPO_ROOT/sdk-python" && "$python" -m maturin build --release --quiet --interpreter "$python" --out "$wheels" >&2)
pip install --target "$stage/vendor" --no-deps --upgrade "$wheels"/the0_sdk-*.whl
rm -rf "$wheels" "$stage/vendor/bin"
find "$stage/vendor" -name __pycache__ -prune -exec rm -rf {} +
