#!/usr/bin/env bash
# Packager for `cpp-gcc13` bots: upstream's alias of `gcc13`, packaged the same way.
exec "$(dirname "${BASH_SOURCE[0]}")/gcc13.sh" "$@"
