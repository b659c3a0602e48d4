#!/usr/bin/env bash
# Packages a bot folder as the code archive a container of the universal image runs: a ZIP (what
# the0's API stores in the custom-bots bucket) whose root is the agent's /bot.
#
# Usage: package-bot.sh BOT_DIR OUT.zip
#
# Reads `runtime` and `entrypoints` from BOT_DIR/bot-config.yaml, lets packagers/<runtime>.sh build
# and stage the folder's contents (it compiles, vendors dependencies, drops tests), checks that
# every entrypoint is in the archive, and writes the ZIP with Unix modes kept. Prints the archive's
# runtime and entrypoints as three lines: RUNTIME, BOT_ENTRYPOINT, QUERY_ENTRYPOINT (may be empty).
#
# A packager is called as `packagers/<runtime>.sh BOT_DIR STAGE_DIR` with THE0_ENTRYPOINTS set to
# the entrypoints (space-separated); it fills STAGE_DIR. Adding a runtime = adding its packager.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bot_dir=${1:?usage: package-bot.sh BOT_DIR OUT.zip}
out=${2:?usage: package-bot.sh BOT_DIR OUT.zip}
bot_dir=$(cd "$bot_dir" && pwd)
config="$bot_dir/bot-config.yaml"
[[ -f $config ]] || images_die "$config not found: a bot folder holds its bot-config.yaml"

# The two fields of bot-config.yaml this needs (upstream's flat format): `runtime:` and the
# `entrypoints:` block with `bot:` and `query:`. Quotes and trailing comments are dropped.
yaml_field() {
    awk -v want="$1" -v quotes="[\"']" '
        function value(line) {
            sub(/^[^:]*:[ \t]*/, "", line); sub(/[ \t]+#.*$/, "", line)
            gsub("^" quotes "|" quotes "$", "", line); return line
        }
        /^[^ \t#]/ { section = $0; sub(/:.*/, "", section) }
        want !~ /\./ && $0 ~ "^" want ":" { print value($0); exit }
        want ~ /\./ {
            split(want, part, ".")
            if (section == part[1] && $0 ~ "^[ \t]+" part[2] ":") { print value($0); exit }
        }' "$config"
}
runtime=$(yaml_field runtime)
bot_entry=$(yaml_field entrypoints.bot)
query_entry=$(yaml_field entrypoints.query)
[[ -n $runtime ]] || images_die "$config has no runtime"
[[ -n $bot_entry ]] || images_die "$config has no entrypoints.bot"

packager="$IMAGES_DIR/packagers/$runtime.sh"
if [[ ! -x $packager ]]; then
    known=$(cd "$IMAGES_DIR/packagers" && ls -- *.sh | sed 's/\.sh$//' | xargs)
    images_die "no packager for runtime '$runtime' (packagers exist for: $known)"
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/the0-package.XXXXXX")
trap 'rm -rf "$stage"' EXIT
images_step "packaging $(basename "$bot_dir") ($runtime)"
THE0_ENTRYPOINTS="$bot_entry $query_entry" "$packager" "$bot_dir" "$stage"

for entry in $bot_entry $query_entry; do
    file=$entry
    [[ $runtime == scala3 && $entry == *.jar:* ]] && file=${entry%:*} # jar:MainClass
    [[ -f $stage/$file ]] || images_die "the $runtime packager did not stage the entrypoint $file"
done

mkdir -p "$(dirname "$out")"
python3 - "$stage" "$out" <<'PY'
import os, stat, sys, zipfile
stage, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out + ".partial", "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
    for directory, dirs, files in os.walk(stage):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            if os.path.islink(path):
                sys.exit(f"package-bot: {os.path.relpath(path, stage)} is a link; the agent refuses links")
            info = zipfile.ZipInfo.from_file(path, os.path.relpath(path, stage))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | (os.stat(path).st_mode & 0o777)) << 16
            with open(path, "rb") as source:
                archive.writestr(info, source.read())
os.replace(out + ".partial", out)
PY
images_step "$out: $(du -h "$out" | cut -f1)"
printf '%s\n%s\n%s\n' "$runtime" "$bot_entry" "$query_entry"
