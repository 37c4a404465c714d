#!/usr/bin/env bash
# (Re)creates the demo databases cutover_demo_pilot and cutover_demo_production on the server of
# $CUTOVER_PG (default postgres://postgres@127.0.0.1:5432/postgres) and loads demo/schema.sql plus
# demo/pilot-data.sql / demo/production-data.sql. Existing demo databases are dropped first.
# Prints the two URLs on stdout as CUTOVER_DB_PILOT=… and CUTOVER_DB_PRODUCTION=… lines.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PILOT_DB=cutover_demo_pilot
PRODUCTION_DB=cutover_demo_production
DEMO_DIR="$CUTOVER_ROOT/demo"

ensure_postgres

psql_admin() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql "$CUTOVER_PG" -X -q -v ON_ERROR_STOP=1 "$@"; }

for db in "$PILOT_DB" "$PRODUCTION_DB"; do
  log "recreating database $db"
  psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || die "could not drop $db (CUTOVER_PG=$CUTOVER_PG)"
  psql_admin -c "CREATE DATABASE $db" || die "could not create $db"
done

PILOT_URL="$(pg_url_with_db "$CUTOVER_PG" "$PILOT_DB")"
PRODUCTION_URL="$(pg_url_with_db "$CUTOVER_PG" "$PRODUCTION_DB")"

load() { # URL FILE...
  local url="$1"; shift
  local f
  for f in "$@"; do
    psql "$url" -X -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null || die "loading $f into $url failed"
  done
}
log "loading schema + pilot data into $PILOT_DB"
load "$PILOT_URL" "$DEMO_DIR/schema.sql" "$DEMO_DIR/pilot-data.sql"
log "loading schema + production data into $PRODUCTION_DB"
load "$PRODUCTION_URL" "$DEMO_DIR/schema.sql" "$DEMO_DIR/production-data.sql"

counts() {
  psql "$1" -X -At -v ON_ERROR_STOP=1 -c \
    "select format('accounts=%s (test %s) users=%s projects=%s events=%s',
       (select count(*) from accounts), (select count(*) from accounts where is_test),
       (select count(*) from users), (select count(*) from projects), (select count(*) from events))"
}
log "pilot:      $(counts "$PILOT_URL")"
log "production: $(counts "$PRODUCTION_URL")"

echo "CUTOVER_DB_PILOT=$PILOT_URL"
echo "CUTOVER_DB_PRODUCTION=$PRODUCTION_URL"
