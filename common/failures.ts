// Failure type names that cross the activity → workflow → CLI boundary. Activities raise them
// (activities/errors.ts), the workflow's retry policy treats them as final (the run pauses for a
// person instead of retrying), and the CLI explains them. One list, imported by all three.
export const NON_RETRYABLE = [
  'PlanError', // the plan does not fit the catalog
  'ConfigError', // the worker lacks configuration (a connection alias)
  'ConflictError', // production already holds rows the plan would write
  'ValidationError', // published data does not reconcile (or publish's own counts show more than its rows: nothing published)
  'StagingLost', // the run's staging is gone (a reset, a manual drop): stage again
  'BackupError', // a backup is missing, corrupt or does not verify
  'RehearsalError', // the rehearsal in a scratch database failed or did not prove its rollback
  'AccessCheckError', // an access check found rows or could not run
  'RollbackBlocked', // production rows written since publish reference this run's rows
  'ConstraintViolation', // PostgreSQL refused a row (SQLSTATE class 23): the detail names it
  'DatabaseError', // another certain PostgreSQL failure (bad data, missing object or right)
  'RollbackRefused', // the rollback could not prove it undid exactly this run (nothing committed)
  'ErasureResidue', // rows of a subject erased after publish are still in production
] as const;
export type FailureType = (typeof NON_RETRYABLE)[number];

/** Failures a person must act on before a retry can succeed (the run pauses on them at once). */
export const isFinal = (type: string | undefined): boolean => (NON_RETRYABLE as readonly string[]).includes(type ?? '');

/**
 * The start of the ConfigError an activity raises when an alias reaches another database than the
 * run started with (activities/db/alias-identity.ts); the workflow reads the alias back from it to
 * decide whether `resume retry --accept-database <alias>` applies.
 */
export const movedDatabaseMessage = (alias: string): string => `connection alias "${alias}" on this worker points at `;
const MOVED = /^connection alias "([^"]+)" on this worker points at .* but this run started on /;

/** The alias a paused run's error says reaches another database, or null. */
export function movedAlias(error: { type: string; message: string } | null | undefined): string | null {
  if (!error || error.type !== 'ConfigError') return null;
  return MOVED.exec(error.message)?.[1] ?? null;
}
