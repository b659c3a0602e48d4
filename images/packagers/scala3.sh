#!/usr/bin/env bash
# Packager for `scala3` bots: a Maven project whose `mvn package` builds one runnable jar (e.g.
# with maven-shade-plugin) named like the bot's entrypoint — `momentum.jar` for the entrypoints
# `momentum.jar` and `momentum.jar:momentum.QueryMain` (the agent runs `java -jar <jar>` or
# `java -cp <jar> <MainClass>`). The the0 SDK is installed from this checkout first (`mvn install`
# in sdk-scala: the jar carries libthe0.so), so the bot's dependency dev.the0:the0-sdk resolves
# to it. The archive holds the jar and the folder's top-level YAML, JSON and Markdown files.
#
# Usage (from package-bot.sh): scala3.sh BOT_DIR STAGE_DIR, with THE0_ENTRYPOINTS set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/sdk-scala/scripts/_maven.sh"
bot_dir=$1 stage=$2

the0_java_tools
images_step "mvn install (sdk-scala, tests skipped) and mvn package ($bot_dir)"
the0_mvn "$REPO_ROOT/sdk-scala" sdk -q -DskipTests install >&2
build=$(mktemp -d "${TMPDIR:-/tmp}/the0-scala3.XXXXXX")
trap 'rm -rf "$build"' EXIT
(cd "$bot_dir" && mvn -B -ntp -q -Dstyle.color=never -Dmaven.repo.local="$CACHE/m2" \
    -Dthe0.build.directory="$build" -DskipTests package >&2)

for entry in $THE0_ENTRYPOINTS; do
    jar=${entry%%:*} # jar:MainClass names the jar before the colon
    [[ -f $build/$(basename "$jar") ]] ||
        images_die "$bot_dir built no $(basename "$jar") (entrypoint $entry); found: $(cd "$build" && ls -- *.jar 2>/dev/null | xargs)"
    install -D -m 0644 "$build/$(basename "$jar")" "$stage/$jar"
done
find "$bot_dir" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.json' -o -name '*.md' \) -exec cp {} "$stage/" \;
