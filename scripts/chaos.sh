#!/usr/bin/env bash
# The reliability suite (npm run chaos [-- --quick] [--keep]): a script, not a test (its CI subset is
# test/chaos.test.ts). Installs what is missing (node_modules, the temporal CLI; PostgreSQL must be on
# 127.0.0.1:5432), builds, then runs dist/chaos/main.js: it starts its own Temporal dev server (a
# database file, so it can restart it) and cutover workers as separate processes, and breaks runs on
# purpose. Databases are named chaos_*. The last line of stdout is one JSON object; exit 1 when a
# fault was not survived.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$CUTOVER_ROOT"

ensure_node_modules
ensure_temporal
ensure_postgres
ensure_build

export CUTOVER_TEMPORAL_BIN="$TEMPORAL_BIN"
exec node "$CUTOVER_ROOT/dist/chaos/main.js" "$@"
