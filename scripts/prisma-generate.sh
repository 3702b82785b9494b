#!/bin/sh
# Generates the Prisma client offline (used by `postinstall`).
#
# `prisma generate` is pure WASM, but Prisma 7.10 still checks that a native schema engine
# binary exists and tries to download one when it does not; these machines cannot download it.
# Pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies the check (measured, see
# docs/architecture.md "Migrations without Prisma's native engines"). A caller-provided real engine wins.
set -eu
cd "$(dirname "$0")/.."
if [ -z "${PRISMA_SCHEMA_ENGINE_BINARY:-}" ] || [ ! -e "${PRISMA_SCHEMA_ENGINE_BINARY}" ]; then
  PRISMA_SCHEMA_ENGINE_BINARY="$(pwd)/scripts/prisma-generate.sh"
  export PRISMA_SCHEMA_ENGINE_BINARY
fi
# Nothing in `generate` needs telemetry or an update check, and both would try the network.
export CHECKPOINT_DISABLE=1
# Resolved through Node so a hoisted or nested node_modules layout both work.
PRISMA_CLI="$(node -p "require.resolve('prisma/build/index.js')")"
PRISMA_HIDE_UPDATE_MESSAGE=1 exec node "$PRISMA_CLI" generate "$@"
