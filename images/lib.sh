# Helpers shared by the image scripts (sourced, not run).
#
#   THE0_CACHE   cache root outside the clone (default ~/.cache/the0-runtime)

IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$IMAGES_DIR/.." && pwd)"
THE0_CACHE="${THE0_CACHE:-$HOME/.cache/the0-runtime}"

# Prints a step heading on stderr (stdout is kept for results other scripts read).
images_step() { printf '== %s\n' "$*" >&2; }

images_die() {
    printf '%s: %s\n' "$(basename "$0")" "$*" >&2
    exit 1
}

# Installs Debian packages (as root, with apt): images_apt_install PACKAGE...
images_apt_install() {
    [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null ||
        images_die "cannot install $* here (needs root and apt-get); install it and retry"
    images_step "apt-get install $*"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Installs a Debian package when a command is missing: images_need COMMAND PACKAGE.
images_need() {
    command -v "$1" >/dev/null || images_apt_install "$2"
}

# Prints the python of a private virtual environment with pip, made once under
# $THE0_CACHE/venv-images; arguments are requirements to install into it (e.g. "maturin>=1.5,<2").
images_python() {
    local venv="$THE0_CACHE/venv-images"
    mkdir -p "$THE0_CACHE"
    (
        set -e # also inside $(images_python), where bash drops errexit
        flock 8 # one writer at a time: tests package bots in parallel
        if [[ ! -x $venv/bin/python ]]; then
            if ! python3 -m venv "$venv" >/dev/null 2>&1; then
                # Debian splits venv/ensurepip out of python3.
                rm -rf "$venv"
                images_apt_install python3-venv
                python3 -m venv "$venv" >&2
            fi
        fi
        if (($#)); then
            "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@" >&2
        fi
    ) 8>"$THE0_CACHE/venv-images.lock" || images_die "cannot prepare the Python environment $venv"
    echo "$venv/bin/python"
}

# Checks a downloaded file against its pinned SHA-256: images_verify FILE SHA256.
images_verify() {
    local actual
    actual=$(sha256sum "$1" | cut -d' ' -f1)
    [[ $actual == "$2" ]] || images_die "$(basename "$1"): sha256 $actual, expected $2"
}
