#!/usr/bin/env bash
# `make images`: builds the two images from a static agent binary, pulling nothing:
#
#   the0-agent:<tag>     the agent alone on an empty root (Dockerfile.agent)
#   the0-runtime:<tag>   the universal image: the base root + the agent (Dockerfile.universal)
#
# The base root (debootstrap + apt + Node 20 + .NET 8, base/build-root.sh) is cached by a hash of
# the base/ folder: as the image the0-runtime-base:<hash> in the Docker engine, and as a tar file in
# $THE0_CACHE/images for an engine that has lost it. So only a recipe change rebuilds it; an agent
# change rebuilds the two small top layers in seconds.
#
# Usage: build.sh AGENT_BINARY        (needs a Docker engine that answers; root for a cold base)
#
#   THE0_IMAGE_TAG   tag of both images (default: the workspace version, e.g. 0.4.0)
#   THE0_CACHE       cache root (default ~/.cache/the0-runtime)
#
# Prints the sizes and build times; the last two lines of stdout are the image names.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

agent=${1:?usage: build.sh AGENT_BINARY}
[[ -x $agent ]] || images_die "$agent is not an executable agent binary (make agent builds it)"
docker info >/dev/null 2>&1 || images_die "no Docker engine answers (scripts/dockerd.sh up starts one)"
# The engine's classic builder: buildx may be missing, and nothing here needs BuildKit.
export DOCKER_BUILDKIT=0

version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$REPO_ROOT/Cargo.toml")
tag=${THE0_IMAGE_TAG:-$version}
recipe=$(cd "$IMAGES_DIR/base" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
base_image="the0-runtime-base:$recipe"
agent_image="the0-agent:$tag"
universal_image="the0-runtime:$tag"

seconds_since() { echo "$(($(date +%s%N) - $1))" | awk '{printf "%.1f", $1 / 1e9}'; }
image_mb() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.1f", $1 / 1e6}'; }

# The base image: in the engine already, else imported from the cached tar, else built.
started=$(date +%s%N)
base_how="cached in the engine"
mkdir -p "$THE0_CACHE/images"
exec 9>"$THE0_CACHE/images/base.lock"
flock 9 # one base build at a time on this machine
if ! docker image inspect "$base_image" >/dev/null 2>&1; then
    tar="$THE0_CACHE/images/the0-runtime-base-$recipe.tar"
    if [[ -f $tar ]]; then
        base_how="imported from $tar"
    else
        images_step "building the base root (recipe $recipe; a few minutes, once)"
        "$IMAGES_DIR/base/build-root.sh" "$tar" >/dev/null
        base_how="built from the recipe and imported"
    fi
    images_step "docker import $base_image"
    docker import --message "the0 base root, recipe $recipe" "$tar" "$base_image" >/dev/null
fi
flock -u 9
base_seconds=$(seconds_since "$started")

# The build context: the agent (and upstream's name for it), and the directories of a container.
context=$(mktemp -d "${TMPDIR:-/tmp}/the0-images.XXXXXX")
trap 'rm -rf "$context"' EXIT
install -D -m 0755 "$agent" "$context/app/the0-agent"
ln -s the0-agent "$context/app/runtime"
install -d -m 0755 "$context/root/bot" "$context/root/state" "$context/root/query" "$context/root/var/the0/logs"
install -d -m 1777 "$context/root/tmp"
cp "$IMAGES_DIR/Dockerfile.agent" "$IMAGES_DIR/Dockerfile.universal" "$context/"

# docker build, its output shown only when it fails.
build() {
    docker build -q "$@" "$context" >"$context/build.log" 2>&1 || { cat "$context/build.log" >&2; images_die "docker build $* failed"; }
}

started=$(date +%s%N)
build -f "$context/Dockerfile.agent" --build-arg VERSION="$version" -t "$agent_image"
agent_seconds=$(seconds_since "$started")

started=$(date +%s%N)
build -f "$context/Dockerfile.universal" --build-arg VERSION="$version" \
    --build-arg BASE_IMAGE="$base_image" --build-arg AGENT_IMAGE="$agent_image" \
    --build-arg BASE_RECIPE="$recipe" -t "$universal_image"
universal_seconds=$(seconds_since "$started")

# Both images must run the agent they were given.
expected=$("$agent" version)
for image in "$agent_image" "$universal_image"; do
    got=$(docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges "$image" /app/runtime version)
    [[ $got == "$expected" ]] || images_die "$image runs '$got', expected '$expected'"
done

printf '%-32s %10s %9s  %s\n' image "size (MB)" "time (s)" "" >&2
printf '%-32s %10s %9s  %s\n' "$base_image" "$(image_mb "$base_image")" "$base_seconds" "$base_how" >&2
printf '%-32s %10s %9s  %s\n' "$agent_image" "$(image_mb "$agent_image")" "$agent_seconds" "target <= 15 MB" >&2
printf '%-32s %10s %9s  %s\n' "$universal_image" "$(image_mb "$universal_image")" "$universal_seconds" \
    "the base and the agent's layer" >&2
echo "$agent_image"
echo "$universal_image"
