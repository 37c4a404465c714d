#!/usr/bin/env bash
# End-to-end demo of cutover on a fresh machine (npm run demo):
#   installs what is missing, starts Temporal (+ checks PostgreSQL), recreates the demo databases,
#   runs a worker, starts the demo plan as alice, shows that alice cannot approve her own run,
#   approves both gates as bob and carol, waits for completion and checks Production with psql.
# Re-runnable: fresh databases every time; a still-open previous run is terminated first.
#
# Env: DEMO_TIMEOUT (seconds per wait, default 600), DEMO_KEEP_WORKER=1 (leave the worker running
# after the demo so `npx cutover status/report` can query the run), TEMPORAL_PORT, TEMPORAL_UI_PORT,
# SEAWEED_BASE_PORT (every SeaweedFS port derives from it, scripts/lib.sh), CUTOVER_PG.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$CUTOVER_ROOT"

WF=cutover-demo-saas
PLAN=demo/plan.yaml
INITIATOR=alice
DEMO_TIMEOUT="${DEMO_TIMEOUT:-600}"
WORKER_LOG="$CUTOVER_DATA_DIR/demo-worker.log"
WORKER_PID_FILE="$CUTOVER_DATA_DIR/demo-worker.pid"
WORKER_PID=""
TERMINAL_STATUSES=" completed rolled-back aborted rejected expired failed "

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
# CUTOVER_DEMO_CLI: another CLI entry point (testing the demo script itself); default bin/cutover.js.
CLI_JS="${CUTOVER_DEMO_CLI:-$CUTOVER_ROOT/bin/cutover.js}"
cli() { node "$CLI_JS" "$@"; }

# ------------------------------------------------------------------ worker lifecycle
stop_worker() { # PID
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  warn "worker $pid did not stop after 20s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

on_exit() {
  local rc=$?
  if [ -n "$WORKER_PID" ]; then
    if [ "$rc" -eq 0 ] && [ "${DEMO_KEEP_WORKER:-}" = 1 ]; then
      log "worker left running (pid $WORKER_PID, log $WORKER_LOG); stop it with: kill $WORKER_PID"
    else
      log "stopping the demo worker (pid $WORKER_PID)"
      stop_worker "$WORKER_PID"
      rm -f "$WORKER_PID_FILE"
    fi
  fi
  if [ "$rc" -ne 0 ]; then
    printf '\n[cutover] DEMO FAILED (exit %s). Worker log: %s\n' "$rc" "$WORKER_LOG" >&2
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

worker_alive_or_die() {
  if [ -n "$WORKER_PID" ] && ! kill -0 "$WORKER_PID" 2>/dev/null; then
    warn "the worker exited; last lines of $WORKER_LOG:"
    tail -n 40 "$WORKER_LOG" >&2 || true
    WORKER_PID=""
    die "worker died"
  fi
}

# ------------------------------------------------------------------ status helpers
# Prints "status gate phase" from `cutover status --json` (fields "-" when absent); empty on error.
status_line() {
  cli status "$WF" --json 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      try {
        const j = JSON.parse(s);
        const f = (v) => (v === null || v === undefined || v === "" ? "-" : String(v));
        console.log([f(j.status), f(j.gate), f(j.phase)].join(" "));
      } catch { /* not JSON yet */ }
    });' 2>/dev/null || true
}

# Prints a field of the status JSON, evaluated as a JS expression on `j` (e.g. 'j.error').
status_expr() {
  cli status "$WF" --json 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      try {
        const j = JSON.parse(s);
        const v = new Function("j", "return (" + process.argv[1] + ");")(j);
        if (v !== undefined && v !== null && v !== "") console.log(typeof v === "string" ? v : JSON.stringify(v, null, 2));
      } catch { /* no status */ }
    });' "$1" 2>/dev/null || true
}

# wait_until DESCRIPTION CHECK_FN: polls the status until CHECK_FN "status gate phase" succeeds.
# A paused run, or a terminal status the check does not accept, fails the demo.
wait_until() {
  local what="$1" check="$2" deadline line="" last="" st gate phase
  deadline=$(( $(date +%s) + DEMO_TIMEOUT ))
  log "waiting until $what (timeout ${DEMO_TIMEOUT}s)"
  while :; do
    worker_alive_or_die
    line="$(status_line)"
    if [ -n "$line" ]; then
      read -r st gate phase <<<"$line"
      [ "$line" != "$last" ] && log "  status=$st gate=$gate phase=$phase"
      last="$line"
      if "$check" "$st" "$gate" "$phase"; then return 0; fi
      if [ "$st" = paused ]; then
        warn "the run paused on an error:"
        status_expr 'j.error' >&2
        die "run paused (inspect: node bin/cutover.js status $WF; resume: node bin/cutover.js resume $WF --action retry --as NAME --reason R)"
      fi
      case "$TERMINAL_STATUSES" in
        *" $st "*) status_expr 'j.error' >&2; die "run ended with status $st while waiting until $what" ;;
      esac
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then die "timed out waiting until $what (last: ${last:-no status})"; fi
    sleep 1
  done
}
at_gate_plan()    { [ "$1" = awaiting-approval ] && [ "$2" = plan ]; }
at_gate_cutover() { [ "$1" = awaiting-approval ] && [ "$2" = cutover ]; }
is_terminal()     { case "$TERMINAL_STATUSES" in *" $1 "*) return 0 ;; esac; return 1; }

approve() { # GATE NAME — must succeed
  local gate="$1" who="$2"
  log "\$ node bin/cutover.js approve $WF --gate $gate --as $who --comment 'demo approval'"
  cli approve "$WF" --gate "$gate" --as "$who" --comment "demo approval by $who" \
    || die "approval of gate $gate by $who failed (exit $?)"
}

# ------------------------------------------------------------------ SQL helpers
sql() { psql "$1" -X -At -v ON_ERROR_STOP=1 -c "$2"; }

# ================================================================== 1. prerequisites
step "1/8 prerequisites (node_modules, temporal CLI, build, PostgreSQL, Temporal dev server)"
ensure_node_modules
ensure_temporal
ensure_build
[ -f "$CLI_JS" ] || die "$CLI_JS is missing (the cutover CLI is not built/installed)"
bash "$CUTOVER_ROOT/scripts/services.sh" start
export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
export TEMPORAL_NAMESPACE="${TEMPORAL_NAMESPACE:-default}"

# ================================================================== 2. previous run
step "2/8 closing what a previous demo left open"
if [ -f "$WORKER_PID_FILE" ]; then
  old="$(tr -dc '0-9' <"$WORKER_PID_FILE")"
  if [ -n "$old" ] && tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q 'node.* worker'; then
    log "stopping the worker a previous demo left running (pid $old)"
    stop_worker "$old"
  fi
  rm -f "$WORKER_PID_FILE"
fi
if "$TEMPORAL_BIN" workflow describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
     --workflow-id "$WF" -o json 2>/dev/null | grep -q 'WORKFLOW_EXECUTION_STATUS_RUNNING'; then
  log "workflow $WF from a previous run is still open; terminating it"
  "$TEMPORAL_BIN" workflow terminate --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" \
    --workflow-id "$WF" --reason demo-rerun >/dev/null 2>&1 || true
else
  log "no open run of $WF"
fi

# ================================================================== 3. databases
step "3/8 demo databases (scripts/demo-db.sh)"
bash "$CUTOVER_ROOT/scripts/demo-db.sh" >/dev/null
CUTOVER_DB_PILOT="$(pg_url_with_db "$CUTOVER_PG" cutover_demo_pilot)"
CUTOVER_DB_PRODUCTION="$(pg_url_with_db "$CUTOVER_PG" cutover_demo_production)"
export CUTOVER_DB_PILOT CUTOVER_DB_PRODUCTION
log "CUTOVER_DB_PILOT=$CUTOVER_DB_PILOT"
log "CUTOVER_DB_PRODUCTION=$CUTOVER_DB_PRODUCTION"

# What the plan should move (pilot rows belonging to non-test accounts) and what production had.
PILOT="$CUTOVER_DB_PILOT"; PROD="$CUTOVER_DB_PRODUCTION"
EXP_ACCOUNTS="$(sql "$PILOT" "select count(*) from accounts where is_test = false")"
EXP_USERS="$(sql "$PILOT" "select count(*) from users u join accounts a using (account_id) where a.is_test = false")"
EXP_PROJECTS="$(sql "$PILOT" "select count(*) from projects p join accounts a using (account_id) where a.is_test = false")"
EXP_EVENTS="$(sql "$PILOT" "select count(*) from events e join projects p using (project_id) join accounts a using (account_id) where a.is_test = false")"
PRE_ACCOUNTS="$(sql "$PROD" "select count(*) from accounts")"
PRE_USERS="$(sql "$PROD" "select count(*) from users")"
PRE_PROJECTS="$(sql "$PROD" "select count(*) from projects")"
PRE_EVENTS="$(sql "$PROD" "select count(*) from events")"
PRE_CHECKSUM="$(sql "$PROD" "select md5(string_agg(a::text, '|' order by account_id)) from accounts a")"

# ================================================================== 4. worker
step "4/8 worker (node bin/cutover.js worker, log $WORKER_LOG)"
mkdir -p "$CUTOVER_DATA_DIR"
printf '\n==== %s demo worker ====\n' "$(date -u +%FT%TZ)" >>"$WORKER_LOG"
# The backup store is the local SeaweedFS (scripts/services.sh): its S3 accepts any key.
AWS_ENDPOINT_URL_S3="http://127.0.0.1:$SEAWEED_S3_PORT" AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-demo}" \
  AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-demo}" AWS_REGION="${AWS_REGION:-us-east-1}" \
  node "$CLI_JS" worker </dev/null >>"$WORKER_LOG" 2>&1 &
WORKER_PID=$!
echo "$WORKER_PID" >"$WORKER_PID_FILE"
sleep 3
worker_alive_or_die
log "worker running (pid $WORKER_PID)"

# ================================================================== 5. start + self-approval
step "5/8 start the plan as $INITIATOR"
log "\$ node bin/cutover.js start $PLAN --as $INITIATOR"
cli start "$PLAN" --as "$INITIATOR" || die "cutover start failed (exit $?)"
wait_until "the run awaits approval of gate plan" at_gate_plan

log "dry-run summary is in: node bin/cutover.js report $WF"
log "\$ node bin/cutover.js approve $WF --gate plan --as $INITIATOR   # the initiator approving her own run"
set +e
self_out="$(cli approve "$WF" --gate plan --as "$INITIATOR" 2>&1)"
self_rc=$?
set -e
printf '%s\n' "$self_out" | sed 's/^/    /' >&2
case "$self_rc" in
  1) log "REFUSED as expected (exit 1): separation of duties — $INITIATOR started the run, so she cannot approve it" ;;
  0) die "self-approval by $INITIATOR was NOT refused (exit 0): separation of duties is broken" ;;
  *) die "self-approval attempt ended with unexpected exit $self_rc (expected 1 = refused)" ;;
esac
refusal="$(status_expr '(j.refused || []).length ? j.refused[j.refused.length - 1].reason : ""')"
[ -n "$refusal" ] && log "the run recorded the refusal: $refusal"

# ================================================================== 6. gate plan
step "6/8 gate plan: approvals by bob and carol"
approve plan bob
approve plan carol
wait_until "the run awaits approval of gate cutover" at_gate_cutover

# ================================================================== 7. gate cutover
step "7/8 gate cutover: approvals by bob and carol"
approve cutover bob
approve cutover carol
wait_until "the run has finished" is_terminal
final="$(status_line)"; final_status="${final%% *}"
if [ "$final_status" != completed ]; then
  status_expr 'j.error' >&2
  die "the run ended with status $final_status (expected completed)"
fi
log "the run completed"

# ================================================================== 8. check production
step "8/8 check Production with psql"
POST_ACCOUNTS="$(sql "$PROD" "select count(*) from accounts")"
POST_USERS="$(sql "$PROD" "select count(*) from users")"
POST_PROJECTS="$(sql "$PROD" "select count(*) from projects")"
POST_EVENTS="$(sql "$PROD" "select count(*) from events")"
POST_TEST="$(sql "$PROD" "select count(*) from accounts where is_test or name like 'Test %'")"
POST_CHECKSUM="$(sql "$PROD" "select md5(string_agg(a::text, '|' order by account_id)) from accounts a where account_id > 100000")"
PILOT_TEST="$(sql "$PILOT" "select count(*) from accounts where is_test")"

ok=1
printf '\n  %-9s %12s %8s %10s %10s\n' table "pre-existing" "+ moved" "= expected" production >&2
row() { # TABLE PRE MOVED POST
  local exp=$(( $2 + $3 )) mark=ok
  [ "$exp" -eq "$4" ] || { mark=MISMATCH; ok=0; }
  printf '  %-9s %12s %8s %10s %10s  %s\n' "$1" "$2" "$3" "$exp" "$4" "$mark" >&2
}
row accounts "$PRE_ACCOUNTS" "$EXP_ACCOUNTS" "$POST_ACCOUNTS"
row users    "$PRE_USERS"    "$EXP_USERS"    "$POST_USERS"
row projects "$PRE_PROJECTS" "$EXP_PROJECTS" "$POST_PROJECTS"
row events   "$PRE_EVENTS"   "$EXP_EVENTS"   "$POST_EVENTS"
printf '\n' >&2
log "test accounts left behind in Pilot: $PILOT_TEST; test accounts in Production: $POST_TEST"
[ "$POST_TEST" -eq 0 ] || { warn "test accounts reached Production"; ok=0; }
if [ "$PRE_CHECKSUM" = "$POST_CHECKSUM" ]; then
  log "pre-existing Production accounts unchanged (checksum $PRE_CHECKSUM)"
else
  warn "pre-existing Production accounts changed (checksum $PRE_CHECKSUM -> $POST_CHECKSUM)"; ok=0
fi
[ "$ok" -eq 1 ] || die "Production does not contain exactly what the plan selected"

cli status "$WF" || true

cat >&2 <<MSG

[cutover] DEMO OK: $EXP_ACCOUNTS real Pilot accounts (of $(( EXP_ACCOUNTS + PILOT_TEST ))) and their users, projects and
[cutover] events are in Production, next to its $PRE_ACCOUNTS pre-existing accounts; $PILOT_TEST test accounts stayed behind.

Where to look (the CLI finds this Temporal through these two lines; paste them first):
  export TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS TEMPORAL_NAMESPACE=$TEMPORAL_NAMESPACE
  export TEMPORAL_UI_PORT=$TEMPORAL_UI_PORT
  Temporal UI:   http://127.0.0.1:$TEMPORAL_UI_PORT/namespaces/$TEMPORAL_NAMESPACE/workflows/$WF
  Status:        npx cutover status $WF
  Evidence pack: npx cutover report $WF
  Databases:     psql $CUTOVER_DB_PILOT
                 psql $CUTOVER_DB_PRODUCTION
The run is closed: status and report read its result, no worker needed. Another run needs a worker
(DEMO_KEEP_WORKER=1 npm run demo leaves this one running), e.g.:
  CUTOVER_DB_PILOT=$CUTOVER_DB_PILOT CUTOVER_DB_PRODUCTION=$CUTOVER_DB_PRODUCTION npx cutover worker
Stop Temporal with: npm run services:stop
MSG
