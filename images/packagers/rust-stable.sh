#!/usr/bin/env bash
# Packager for `rust-stable` bots: a Cargo package whose binaries are the entrypoints.
#
# `cargo build --release` (CARGO_TARGET_DIR honoured), then each entrypoint is the binary of the
# same name put at the entrypoint's path (e.g. target/release/sma-bot). Besides the binaries the
# archive holds the folder's top-level bot-config.yaml, JSON and Markdown files (schema, sample
# config, README); sources stay out. The binaries link glibc dynamically: build on Debian
# bookworm (the image's release) or older.
#
# Usage (from package-bot.sh): rust-stable.sh BOT_DIR STAGE_DIR, with THE0_ENTRYPOINTS set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bot_dir=$1 stage=$2

images_step "cargo build --release ($bot_dir)"
built=$(cargo build --release --quiet --manifest-path "$bot_dir/Cargo.toml" --message-format=json-render-diagnostics |
    python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable"):
        print(message["executable"])')

for entry in $THE0_ENTRYPOINTS; do
    binary=$(grep -m1 "/$(basename "$entry")\$" <<<"$built") ||
        images_die "$bot_dir builds no binary named $(basename "$entry") (entrypoint $entry)"
    install -D -m 0755 "$binary" "$stage/$entry"
done
find "$bot_dir" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.json' -o -name '*.md' \) -exec cp {} "$stage/" \;
