# Sourced by the Scala scripts: Java and Maven (installed from Debian when missing), and `mvn`
# with its downloads and build outputs cached outside the clone, so a fresh clone on a warm
# machine downloads and recompiles nothing it already has.
#
#   THE0_CACHE        cache root (default ~/.cache/the0-runtime)
#                     $THE0_CACHE/m2: Maven's local repository; $THE0_CACHE/scala/<module>: outputs
#   CARGO_TARGET_DIR  honoured by the cargo build that packs libthe0.so into the SDK jar

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${THE0_CACHE:-$HOME/.cache/the0-runtime}"
SCALA_CACHE="$CACHE/scala"

# Installs a JDK 17+ and Maven from Debian when `javac` or `mvn` is missing.
the0_java_tools() {
    if command -v javac >/dev/null && command -v mvn >/dev/null; then
        return
    fi
    echo "== installing a JDK and Maven (Debian packages)"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        openjdk-17-jdk-headless maven >/dev/null
}

# the0_mvn MODULE_DIR OUTPUT_NAME ARGS...: mvn in MODULE_DIR, outputs in $SCALA_CACHE/OUTPUT_NAME.
the0_mvn() {
    local dir=$1 name=$2
    shift 2
    (cd "$dir" && mvn -B -ntp -Dstyle.color=never -Dmaven.repo.local="$CACHE/m2" \
        -Dthe0.build.directory="$SCALA_CACHE/$name" "$@")
}
