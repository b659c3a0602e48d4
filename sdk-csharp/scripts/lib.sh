# Helpers of the C# SDK's scripts (sourced, not run): where things are, how they are built.
#
#   CARGO_TARGET_DIR  cargo's output (default <repo>/target); builds go to $CARGO_TARGET_DIR/the0-csharp
#   THE0_CACHE        cache outside the clone (default ~/.cache/the0-runtime): the .NET 8 runtime
SDK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$SDK_DIR/.." && pwd)"
export THE0_CACHE="${THE0_CACHE:-$HOME/.cache/the0-runtime}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$CARGO_TARGET_DIR/the0-csharp"
LIB="$OUT/lib" # The0.Sdk.dll, Newtonsoft.Json.dll, System.Security.Permissions.dll, libthe0.so
NEWTONSOFT=/usr/lib/cli/Newtonsoft.Json-5.0/Newtonsoft.Json.dll
# mcs speaks C# 7.2 at most: the SDK's sources stay in that subset so they also build as net8.0.
# CS1591 (a public member without an XML comment) is not an error: the System.Text.Json subset
# mirrors documented framework members.
MCS_FLAGS=(-nologo -langversion:7.2 -warn:4 -warnaserror+ -nowarn:1591 -debug-)

step() { printf '\n==> %s\n' "$*"; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# Installs Mono's compiler and runtime and Newtonsoft.Json from Debian when missing.
csharp_tools() {
    local missing=()
    command -v mcs >/dev/null || missing+=(mono-mcs)
    command -v mono >/dev/null || missing+=(mono-runtime)
    [[ -f $NEWTONSOFT ]] || missing+=(libnewtonsoft-json-cil-dev)
    # System.Numerics and friends that Newtonsoft.Json references.
    [[ -f /usr/lib/mono/4.5/System.Numerics.dll ]] || missing+=(libmono-system-numerics4.0-cil)
    if ((${#missing[@]})); then
        apt-get -o DPkg::Lock::Timeout=600 update -qq
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
}

# csharp_app OUT_DIR NAME SOURCE...: compiles an executable OUT_DIR/NAME.dll against the SDK, with
# everything it loads beside it, and the runtimeconfig.json that lets `dotnet NAME.dll` run it on
# .NET 8; `mono NAME.dll` runs it on Mono.
csharp_app() {
    local dir=$1 name=$2
    shift 2
    mkdir -p "$dir"
    mcs "${MCS_FLAGS[@]}" -target:exe -out:"$dir/$name.dll" -r:"$LIB/The0.Sdk.dll" -r:"$NEWTONSOFT" "$@"
    cp "$LIB"/The0.Sdk.dll "$LIB"/Newtonsoft.Json.dll "$LIB"/System.Security.Permissions.dll "$LIB"/libthe0.so "$dir/"
    cat >"$dir/$name.runtimeconfig.json" <<'JSON'
{"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.NETCore.App", "version": "8.0.0"}}}
JSON
}
