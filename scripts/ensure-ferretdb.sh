#!/usr/bin/env bash
# Prints the path of a MongoDB-wire server for the orchestrator's drop-in tests: FerretDB with its
# SQLite backend, embedded in the small main module beside this script (scripts/ferretdb/), built
# once with `go build` and cached outside the clone ($THE0_CACHE/bin). FerretDB's own command
# cannot be `go install`ed (it panics on a missing version file when it is the main module).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${THE0_CACHE:-$HOME/.cache/the0-runtime}
# The cached binary's name carries a digest of the module, so a change to it rebuilds.
digest=$(cat "$here/ferretdb/go.mod" "$here/ferretdb/go.sum" "$here/ferretdb/main.go" | sha256sum | cut -c1-12)
bin="$cache/bin/the0-ferretdb-$digest"
if [[ -x "$bin" ]]; then
    echo "$bin"
    exit 0
fi
command -v go >/dev/null || { echo "ensure-ferretdb: Go is required to build FerretDB" >&2; exit 1; }
echo "ensure-ferretdb: building FerretDB (once; a few minutes)" >&2
mkdir -p "$cache/bin" "$cache/go"
(cd "$here/ferretdb" && GOPATH="$cache/go" GOFLAGS=-modcacherw CGO_ENABLED=0 \
    go build -trimpath -o "$bin.partial" . >&2)
mv "$bin.partial" "$bin"
echo "$bin"
