#!/usr/bin/env bash
# The long model-based test (issue 16): `npm run model-test -- --runs N [--seed S]` drives N
# generated cases through the real workflow and worker on real PostgreSQL (127.0.0.1:5432) and
# judges each against the oracle in test/model/. The test starts its own Temporal dev server. Its
# output goes to stderr; the last line on stdout is one JSON object:
#   {"seed":…,"cases":N,"paths":{"run":…,"rehearsal":…,"rollback":…,"restore":…,"adopt":…,"clean-start":…},"failures":0}
# A failure prints the shrunk counterexample (JSON) to commit in test/model/regressions.ts
# (MODEL_NO_SHRINK=1: the first one as found; MODEL_COLLECT=1: every differing case, no shrinking).
# Exit code: 0 when every case agreed with the model, 1 otherwise, 2 for bad arguments.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$CUTOVER_ROOT"

runs=100
seed="$(date +%s)"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:-}"; shift 2 ;;
    --seed) seed="${2:-}"; shift 2 ;;
    *) echo "usage: npm run model-test -- --runs N [--seed S]" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -gt 0 ] || { echo "--runs: expected a positive integer, got '$runs'" >&2; exit 2; }
[[ "$seed" =~ ^-?[0-9]+$ ]] || { echo "--seed: expected an integer, got '$seed'" >&2; exit 2; }

ensure_node_modules
ensure_temporal
ensure_postgres
export CUTOVER_TEMPORAL_BIN="$TEMPORAL_BIN"

summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT
set +e
MODEL_RUNS="$runs" MODEL_SEED="$seed" MODEL_SUMMARY="$summary" npx --no-install jest --ci test/model.test.ts >&2
rc=$?
set -e
if [ -s "$summary" ]; then
  cat "$summary"; echo
else
  printf '{"seed":%s,"cases":0,"paths":{},"failures":1,"error":"the model test did not finish"}\n' "$seed"
  rc=1
fi
[ "$rc" -eq 0 ] || exit 1
