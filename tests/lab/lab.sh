#!/usr/bin/env bash
# Lab fleet control: `npm run lab -- up|down|status|bench-up|bench-down|restart`.
# One lab per machine: the lock keeps two callers (say, two test runs) from building it at once.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  echo "lab: needs root (network namespaces, daemons on privileged ports)" >&2
  exit 1
fi
exec flock /run/tlsfleet-lab.lock node "$here/lab.mjs" "$@"
