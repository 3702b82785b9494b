#!/usr/bin/env bash
# `npm test`: the whole suite, in the order that fails fastest.
# typecheck -> lint -> unit -> lab fleet up -> integration (real Postgres + lab) -> build -> e2e (Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
# Next.js telemetry off for build and e2e server (README "Telemetry").
export NEXT_TELEMETRY_DISABLED=1

step() { printf '\n==> %s\n' "$*"; }

step "typecheck"; npx tsc --noEmit
step "lint"; npx eslint --max-warnings=0 .
step "unit tests"; npx vitest run --project unit

step "lab fleet (network namespaces with real Postfix, nginx, Dovecot, sshd)"
if [ "$(id -u)" -ne 0 ]; then
  echo "The lab fleet needs root (ip netns). Run npm test as root, as CI does." >&2
  exit 1
fi
bash tests/lab/lab.sh up

step "integration tests"; npx vitest run --project integration

step "build"; npx next build
step "end-to-end tests (Chromium)"
if [ -n "${DATABASE_URL:-}" ]; then
  # A fresh database per run, on the same server, so e2e never sees leftovers.
  E2E_DATABASE_URL="$(node --import tsx scripts/fresh-database.ts e2e)"
  export E2E_DATABASE_URL
else
  rm -rf .data/e2e
fi
npx playwright test
