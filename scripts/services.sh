#!/usr/bin/env bash
# Dev services for cutover: the Temporal dev server (CLI `temporal server start-dev`, SQLite file
# in .data/temporal/temporal.db, so workflows survive restarts), SeaweedFS as the S3 backup store
# (`weed mini`, data in .data/seaweed, bucket cutover-backups, S3 on 127.0.0.1:SEAWEED_BASE_PORT+3) and a check
# that PostgreSQL is up.
#
#   scripts/services.sh start [temporal|seaweed]   # idempotent; both when none is named
#   scripts/services.sh stop [temporal|seaweed]    # stops only what this script started (pid files)
#   scripts/services.sh status
#
# Env: TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), SEAWEED_BASE_PORT (18330: every SeaweedFS port is
# derived from it, S3 is base + 3; SEAWEED_S3_PORT alone moves the base with it), SEAWEED_BUCKET
# (cutover-backups), CUTOVER_DATA_DIR (.data), CUTOVER_PG; TEMPORAL_UI_CODEC_ENDPOINT (e.g. http://127.0.0.1:8888,
# a running `cutover codec-server`: the UI shows encrypted payloads decrypted).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SEARCH_ATTRIBUTES=(CutoverStatus CutoverPhase CutoverPlanId CutoverChange)
# Payload and history limits, explicit so an oversized signal or plan is refused by the server here as
# on a production cluster (same values as SERVER_LIMITS in test/helpers/temporal.ts: keep them in step).
SERVER_LIMITS=(
  --dynamic-config-value limit.blobSize.warn=262144        # 256 KiB: warn in the server log
  --dynamic-config-value limit.blobSize.error=2097152      # 2 MiB: one payload (input, signal, result) refused
  --dynamic-config-value limit.historySize.warn=10485760   # 10 MiB
  --dynamic-config-value limit.historySize.error=52428800  # 50 MiB: the run is terminated beyond it
  --dynamic-config-value limit.historyCount.warn=10240
  --dynamic-config-value limit.historyCount.error=51200
  --dynamic-config-value history.maximumSignalsPerExecution=20  # signals per run: 20 x 2 MiB stays under 50 MiB during a step (common/history-budget.ts)
)
ADDRESS="127.0.0.1:$TEMPORAL_PORT"

# The pid from the pid file when that process is alive and is a temporal server; else empty.
running_pid() {
  [ -f "$TEMPORAL_PID_FILE" ] || return 0
  local pid; pid="$(tr -dc '0-9' <"$TEMPORAL_PID_FILE")"
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  # Guard against pid reuse: the process must be our `temporal server start-dev`.
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'server start-dev'; then echo "$pid"; fi
}

clean_stale_pid() {
  if [ -f "$TEMPORAL_PID_FILE" ] && [ -z "$(running_pid)" ]; then
    log "removing stale pid file $TEMPORAL_PID_FILE"
    rm -f "$TEMPORAL_PID_FILE"
  fi
}

wait_healthy() { # PID SECONDS
  local pid="$1" secs="$2" deadline; deadline=$(( $(date +%s) + secs ))
  until temporal_healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then warn "the Temporal server (pid $pid) exited"; return 1; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then warn "Temporal did not become healthy within ${secs}s"; return 1; fi
    sleep 0.5
  done
}

list_search_attributes() {
  "$TEMPORAL_BIN" operator search-attribute list --address "$ADDRESS" --namespace default -o json 2>/dev/null
}

has_search_attribute() { # JSON NAME
  printf '%s' "$1" | grep -q "\"$2\"[[:space:]]*:[[:space:]]*\"INDEXED_VALUE_TYPE_KEYWORD\""
}

ensure_search_attributes() {
  local name out existing deadline
  existing="$(list_search_attributes || true)"
  for name in "${SEARCH_ATTRIBUTES[@]}"; do
    has_search_attribute "$existing" "$name" && continue
    log "creating search attribute $name (Keyword)"
    if ! out="$("$TEMPORAL_BIN" operator search-attribute create --address "$ADDRESS" --namespace default \
                 --name "$name" --type Keyword 2>&1)"; then
      case "$out" in
        *"already exists"*|*"already registered"*) ;;
        *) warn "could not create search attribute $name: $out" ;;
      esac
    fi
  done
  # Verify (creation is asynchronous on some servers: give it a few seconds).
  deadline=$(( $(date +%s) + 20 ))
  while :; do
    existing="$(list_search_attributes || true)"
    local missing=()
    for name in "${SEARCH_ATTRIBUTES[@]}"; do has_search_attribute "$existing" "$name" || missing+=("$name"); done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(date +%s)" -ge "$deadline" ]; then die "search attributes missing after create: ${missing[*]}"; fi
    sleep 1
  done
}

temporal_start() {
  ensure_temporal
  mkdir -p "$TEMPORAL_STATE_DIR"
  clean_stale_pid
  local pid; pid="$(running_pid)"
  if [ -n "$pid" ]; then
    if wait_healthy "$pid" 60; then
      ensure_search_attributes
      log "Temporal dev server already running (pid $pid) on $ADDRESS, UI http://127.0.0.1:$TEMPORAL_UI_PORT"
      return 0
    fi
    die "Temporal (pid $pid from $TEMPORAL_PID_FILE) is running but not healthy; see $TEMPORAL_LOG_FILE or run: $0 stop"
  fi
  if port_open 127.0.0.1 "$TEMPORAL_PORT"; then
    if temporal_healthy; then
      ensure_search_attributes
      log "a Temporal server not started by this script already answers on $ADDRESS; using it (stop will not touch it)"
      return 0
    fi
    die "port $TEMPORAL_PORT is in use by something that is not a healthy Temporal server"
  fi
  if port_open 127.0.0.1 "$TEMPORAL_UI_PORT"; then die "UI port $TEMPORAL_UI_PORT is already in use (set TEMPORAL_UI_PORT)"; fi

  log "starting Temporal dev server on $ADDRESS (UI :$TEMPORAL_UI_PORT, db $TEMPORAL_DB_FILE, log $TEMPORAL_LOG_FILE)"
  printf '\n==== %s start-dev ====\n' "$(date -u +%FT%TZ)" >>"$TEMPORAL_LOG_FILE"
  # setsid + nohup: detached from this shell's process group and terminal, so it outlives the script.
  # From a non-interactive script the background child is not a group leader, so setsid/nohup exec
  # in place and $! is the server's own pid.
  setsid nohup "$TEMPORAL_BIN" server start-dev \
    --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$TEMPORAL_DB_FILE" --namespace default \
    --search-attribute CutoverStatus=Keyword --search-attribute CutoverPhase=Keyword \
    --search-attribute CutoverPlanId=Keyword --search-attribute CutoverChange=Keyword "${SERVER_LIMITS[@]}" \
    ${TEMPORAL_UI_CODEC_ENDPOINT:+--ui-codec-endpoint "$TEMPORAL_UI_CODEC_ENDPOINT"} \
    --ui-disable-news-fetch --log-level warn \
    </dev/null >>"$TEMPORAL_LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$TEMPORAL_PID_FILE"
  if ! wait_healthy "$pid" 60; then
    warn "last lines of $TEMPORAL_LOG_FILE:"
    tail -n 40 "$TEMPORAL_LOG_FILE" >&2 || true
    kill "$pid" 2>/dev/null || true
    rm -f "$TEMPORAL_PID_FILE"
    die "the Temporal dev server did not start"
  fi
  ensure_search_attributes
  log "Temporal dev server running (pid $pid): $ADDRESS, UI http://127.0.0.1:$TEMPORAL_UI_PORT"
}

temporal_stop() {
  local pid; pid="$(running_pid)"
  if [ -z "$pid" ]; then
    clean_stale_pid
    log "Temporal dev server is not running (nothing started by this script)"
    return 0
  fi
  log "stopping Temporal dev server (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true

  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "pid $pid did not exit after 30s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$TEMPORAL_PID_FILE"
  log "stopped"
}

# ---------------------------------------------------------------- SeaweedFS
# The pid from the pid file when that process is alive and is our `weed mini`; else empty.
seaweed_pid() {
  [ -f "$SEAWEED_PID_FILE" ] || return 0
  local pid; pid="$(tr -dc '0-9' <"$SEAWEED_PID_FILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "mini -dir=$SEAWEED_STATE_DIR/data"; then echo "$pid"; fi
}

seaweed_start() {
  ensure_weed
  mkdir -p "$SEAWEED_STATE_DIR/data"
  local pid; pid="$(seaweed_pid)"
  [ -z "$pid" ] && rm -f "$SEAWEED_PID_FILE"
  if [ -z "$pid" ] && port_open 127.0.0.1 "$SEAWEED_S3_PORT"; then
    die "port $SEAWEED_S3_PORT is in use by something this script did not start (set SEAWEED_BASE_PORT: every SeaweedFS port derives from it)"
  fi
  if [ -n "$pid" ]; then
    log "SeaweedFS already running (pid $pid)"
  else
    log "starting SeaweedFS (weed mini): S3 http://127.0.0.1:$SEAWEED_S3_PORT, bucket $SEAWEED_BUCKET, data $SEAWEED_STATE_DIR, log $SEAWEED_LOG_FILE"
    printf '\n==== %s weed mini ====\n' "$(date -u +%FT%TZ)" >>"$SEAWEED_LOG_FILE"
    local args; mapfile -t args < <(seaweed_args)
    # No AWS keys in its environment: with them weed mini creates an identity and demands them;
    # without, its S3 has no identities and accepts any key. setsid + nohup as for Temporal.
    (cd "$SEAWEED_STATE_DIR" || exit 1
     env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u S3_BUCKET \
       setsid nohup "$WEED_BIN" "${args[@]}" </dev/null >>"$SEAWEED_LOG_FILE" 2>&1 &
     echo $! >"$SEAWEED_PID_FILE")
    pid="$(tr -dc '0-9' <"$SEAWEED_PID_FILE")"
  fi
  local deadline=$(( $(date +%s) + 60 ))
  until seaweed_healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      warn "SeaweedFS (pid $pid) exited; last lines of $SEAWEED_LOG_FILE:"; tail -n 30 "$SEAWEED_LOG_FILE" >&2 || true
      rm -f "$SEAWEED_PID_FILE"; die "SeaweedFS did not start"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then die "SeaweedFS S3 did not answer within 60s; see $SEAWEED_LOG_FILE or run: $0 stop seaweed"; fi
    sleep 0.5
  done
  log "SeaweedFS running (pid $pid): backup.store s3://$SEAWEED_BUCKET/<prefix> with AWS_ENDPOINT_URL_S3=http://127.0.0.1:$SEAWEED_S3_PORT (any AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
}

seaweed_stop() {
  local pid; pid="$(seaweed_pid)"
  if [ -z "$pid" ]; then
    rm -f "$SEAWEED_PID_FILE"
    log "SeaweedFS is not running (nothing started by this script)"
    return 0
  fi
  log "stopping SeaweedFS (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then warn "pid $pid did not exit after 20s; sending SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$SEAWEED_PID_FILE"
  log "stopped"
}

# ---------------------------------------------------------------- commands
# Which services a command acts on: those named, else all.
services() { if [ "$#" -eq 0 ]; then echo temporal seaweed; else echo "$@"; fi; }

cmd_start() {
  ensure_postgres
  local s
  for s in $(services "$@"); do
    case "$s" in temporal) temporal_start ;; seaweed) seaweed_start ;; *) die "unknown service $s (temporal, seaweed)" ;; esac
  done
}

cmd_stop() {
  local s
  for s in $(services "$@"); do
    case "$s" in temporal) temporal_stop ;; seaweed) seaweed_stop ;; *) die "unknown service $s (temporal, seaweed)" ;; esac
  done
}

cmd_status() {
  ensure_temporal
  local pid rc=0; pid="$(running_pid)"
  if [ -n "$pid" ]; then
    if temporal_healthy; then
      echo "temporal:   running (pid $pid), $ADDRESS healthy, UI http://127.0.0.1:$TEMPORAL_UI_PORT, db $TEMPORAL_DB_FILE"
    else
      echo "temporal:   process running (pid $pid) but $ADDRESS is not healthy (see $TEMPORAL_LOG_FILE)"; rc=1
    fi
  elif temporal_healthy; then
    echo "temporal:   a server not started by scripts/services.sh answers on $ADDRESS"
  else
    echo "temporal:   not running"; rc=1
  fi
  pid="$(seaweed_pid)"
  if [ -n "$pid" ] && seaweed_healthy; then
    echo "seaweedfs:  running (pid $pid), S3 http://127.0.0.1:$SEAWEED_S3_PORT bucket $SEAWEED_BUCKET, data $SEAWEED_STATE_DIR"
  elif [ -n "$pid" ]; then
    echo "seaweedfs:  process running (pid $pid) but its S3 does not answer (see $SEAWEED_LOG_FILE)"; rc=1
  else
    echo "seaweedfs:  not running"; rc=1
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "postgresql: accepting connections on 127.0.0.1:5432 (CUTOVER_PG=$CUTOVER_PG)"
  else
    echo "postgresql: not ready on 127.0.0.1:5432"; rc=1
  fi
  return "$rc"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  start)  cmd_start "$@" ;;
  stop)   cmd_stop "$@" ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop [temporal|seaweed] | status" >&2; exit 2 ;;
esac
