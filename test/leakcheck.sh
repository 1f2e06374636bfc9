#!/usr/bin/env bash
# Lists what tinydock or its tests left in the kernel (mounts, cgroups, links, netns, firewall
# rules, processes); the checks live in test/helpers/leakcheck.ts so tests can call them too.
# Usage: test/leakcheck.sh [--snapshot FILE | --since FILE] [PATTERN]   (default: tinydock). Exit 0 when
# clean, 1 with one line per leftover; --since FILE lists only what is not in an earlier --snapshot.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec bun "$here/helpers/leakcheck.ts" "$@"
