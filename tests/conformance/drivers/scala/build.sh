#!/usr/bin/env bash
# Builds the Scala driver and prints the path of its launcher (a command for
# THE0_CONFORMANCE_DRIVER). Installs dev.the0:the0-sdk into the Maven cache first (`mvn install`,
# tests skipped: sdk-scala/scripts/test.sh runs them), then packages the driver against it.
#
# The state and input vectors start the driver once per step, so the launcher is tuned for
# start-up: a class-data-sharing archive of the driver's classes (made here by training runs),
# the C1 compiler only and the serial collector — about half the start-up time of a plain `java`.
# It also sets a UTF-8 locale when there is none: the JVM decodes its arguments (state keys such
# as "prix_€") with the locale's charset.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../../../sdk-scala/scripts/_maven.sh"
the0_java_tools

the0_mvn "$ROOT/sdk-scala" sdk -q -DskipTests install >&2
the0_mvn "$here" driver -q package >&2

out="$SCALA_CACHE/driver"
classpath="$out/the0-conformance-driver-0.4.0.jar:$(cat "$out/classpath.txt")"
echo "$classpath" >"$out/driver.classpath" # for the benchmark, which runs the JVM with its own flags
launcher="$out/the0-driver-scala"
archive="$out/driver.jsa"
flags="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xlog:disable -Xlog:all=warning:stderr"

# Training runs: every kind of command, so the archive holds what each loads.
rm -f "$archive"
train=$(mktemp -d)
trap 'rm -rf "$train"' EXIT
(
    export STATE_DIR="$train/state" CODE_MOUNT_DIR="${train#/}" BOT_ID=b BOT_CONFIG='{}' LC_ALL=C.UTF-8
    java $flags -XX:ArchiveClassesAtExit="$archive" -cp "$classpath" Driver state set k '{"a":[1]}'
    java $flags -XX:SharedArchiveFile="$archive" -cp "$classpath" Driver state list
    QUERY_PATH=/echo THE0_QUERY_RESULT_FILE="$train/result.json" \
        java $flags -XX:SharedArchiveFile="$archive" -cp "$classpath" Driver query
) >/dev/null 2>"$train/training.log" || { cat "$train/training.log" >&2; exit 1; }

cat >"$launcher" <<LAUNCHER
#!/bin/sh
# The Scala SDK's conformance driver (written by tests/conformance/drivers/scala/build.sh).
case "\${LC_ALL:-\${LC_CTYPE:-\${LANG:-}}}" in *UTF-8*|*utf8*) ;; *) export LC_ALL=C.UTF-8 ;; esac
exec java $flags -XX:SharedArchiveFile="$archive" -cp "$classpath" Driver "\$@"
LAUNCHER
chmod +x "$launcher"
echo "$launcher"
