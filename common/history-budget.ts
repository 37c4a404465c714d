// What one run of a cutover workflow may hold, and why a flood of signals cannot end it. The run
// continues as new only at safe points (workflows/continue.ts), never while a step runs; during a
// step (a publish may take an hour) the server itself bounds what a flood adds: it records at most
// `history.maximumSignalsPerExecution` signals per run (and refuses the rest to their sender:
// "exceeded workflow execution limit for signal events"), each payload at most
// `limit.blobSize.error`. With the values below, a step's run holds at most SIGNALS_PER_RUN × 2 MiB
// = 40 MiB of signals, under the 50 MiB `limit.historySize.error`, with 10 MiB for the run's own
// events. Updates need no budget of their own: a malformed one is refused by the validator and
// writes nothing; a well-formed one is at most 4 KB of text per field (workflows/decisions.ts) and
// the server allows `history.maxTotalUpdates` per run. The same numbers are in scripts/services.sh,
// test/helpers/temporal.ts and deploy/temporal-dynamicconfig.yaml (test/server-limits.test.ts).

/** `history.maximumSignalsPerExecution`: signals the server records per run. The workflow continues at its next safe point at half of it. */
export const SIGNALS_PER_RUN = 20;

/** `limit.blobSize.error`: the largest payload (a signal's too) the server accepts. */
export const BLOB_SIZE_ERROR = 2 * 1024 * 1024;

/** `limit.historySize.error`: the history size at which the server terminates a run. */
export const HISTORY_SIZE_ERROR = 50 * 1024 * 1024;

/**
 * Room a run's own events keep beside a full signal budget. A step starts with the history under
 * the server's continue suggestion (`limit.historySize.suggestContinueAsNew`, 4 MiB by default: the
 * run continues between steps once past it) plus the last step's result, and the running step adds
 * its own result: each at most one payload (2 MiB). A cluster that raises the suggestion must keep
 * this sum under its limit too.
 */
export const OWN_EVENTS_ROOM = 10 * 1024 * 1024;
