#!/usr/bin/env bash
# The test entry point (npm test, .ci/run): installs what is missing, builds, starts the real
# services the tests use (Temporal dev server; PostgreSQL must be on 127.0.0.1:5432; the backup
# tests start their own SeaweedFS from the weed it installs), then runs
# typecheck, prettier --check, eslint (when an eslint.config.* exists) and jest. Extra arguments go to jest:
#   npm test -- test/plan.test.ts -t 'refuses'
# Exit code: jest's; 1 when jest passed but the build, typecheck or lint failed.
# Temporal is stopped at exit only when this script started it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$CUTOVER_ROOT"

ensure_node_modules
ensure_temporal
ensure_weed   # backup tests start their own SeaweedFS from it (test/helpers/seaweed.ts)
ensure_postgres

# Browser tests of the Temporal UI (test/*.ui.test.ts) drive Debian's chromium via playwright-core.
if compgen -G "$CUTOVER_ROOT/test/*.ui.test.ts" >/dev/null; then
  if ! command -v chromium >/dev/null 2>&1; then
    log "UI tests present: installing Debian chromium"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -q || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium || die "apt-get install chromium failed"
  fi
  CUTOVER_CHROMIUM="$(command -v chromium)"
  export CUTOVER_CHROMIUM
fi

# So that the EXIT trap below (stopping Temporal) also runs when the run is interrupted.
trap 'exit 130' INT
trap 'exit 143' TERM

failed=()
if ! (ensure_build); then failed+=(build); fi

# Start Temporal; remember whether we did, so the trap stops only our own server.
pid_before=""; [ -f "$TEMPORAL_PID_FILE" ] && pid_before="$(tr -dc '0-9' <"$TEMPORAL_PID_FILE")"
bash "$CUTOVER_ROOT/scripts/services.sh" start temporal
pid_after=""; [ -f "$TEMPORAL_PID_FILE" ] && pid_after="$(tr -dc '0-9' <"$TEMPORAL_PID_FILE")"
if [ -n "$pid_after" ] && [ "$pid_after" != "$pid_before" ]; then
  trap 'log "stopping the Temporal dev server started for the tests"; bash "$CUTOVER_ROOT/scripts/services.sh" stop temporal || true' EXIT
else
  log "Temporal was already running; it is left running after the tests"
fi

export CUTOVER_TEMPORAL_BIN="$TEMPORAL_BIN"
export CUTOVER_WEED_BIN="$WEED_BIN"
export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
export TEMPORAL_NAMESPACE="${TEMPORAL_NAMESPACE:-default}"

log "typecheck: npx tsc -p tsconfig.json --noEmit"
if ! npx --no-install tsc -p tsconfig.json --noEmit; then failed+=(typecheck); fi

log "format: npx prettier --check . (npm run format rewrites)"
if ! npx --no-install prettier --check . --log-level warn; then failed+=(format); fi

if compgen -G "$CUTOVER_ROOT/eslint.config.*" >/dev/null; then
  log "lint: npx eslint ."
  if ! npx --no-install eslint .; then failed+=(lint); fi
fi

log "tests: npx jest --ci $*"
set +e
npx --no-install jest --ci "$@"
jest_rc=$?
set -e

if [ "$jest_rc" -ne 0 ]; then failed+=("jest (exit $jest_rc)"); fi
if [ "${#failed[@]}" -eq 0 ]; then
  log "all checks passed"
  exit 0
fi
warn "FAILED: ${failed[*]}"
[ "$jest_rc" -ne 0 ] && exit "$jest_rc"
exit 1
