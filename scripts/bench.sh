#!/usr/bin/env bash
# The benchmark (npm run bench -- [--subjects N] [--production-scale K] [--production-scale-check] [--scale10]
# [--no-writer] [--peers] [--jailer DIR] [--lanes N] [--keep]; --help lists them): a script, not a test.
# Installs what is missing (node_modules, the temporal CLI, psql, pgcopydb via apt-get), builds, then runs
# dist/bench/main.js: generated Pilot → raw psql COPY | psql COPY, pgcopydb, cutover's stage, a whole
# cutover run through a Temporal dev server it starts itself (beside an application writer on Production).
# Databases are named cutover_bench_<pid>_*.
# The last line of stdout is one JSON object. Exit 0 when the runs completed (missed targets are reported).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$CUTOVER_ROOT"

apt_install() { # PACKAGE...
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing $* (apt-get)"
  $sudo apt-get update -q >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@" >&2 || die "apt-get install $* failed"
}

command -v psql >/dev/null 2>&1 || apt_install postgresql-client
command -v pgcopydb >/dev/null 2>&1 || apt_install pgcopydb
ensure_node_modules
ensure_temporal
ensure_postgres
ensure_build

export CUTOVER_TEMPORAL_BIN="$TEMPORAL_BIN"
exec node "$CUTOVER_ROOT/dist/bench/main.js" "$@"
