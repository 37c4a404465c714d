// PostgreSQL's own words for a failure, kept: a paused run's error names the table, constraint,
// key, DETAIL and HINT the server gave (they used to be only in the worker log), and failures that
// will fail the same way on every retry (a constraint, bad data, a missing object or right) are
// final at once instead of being retried three times. Transient ones (connection lost, deadlock,
// serialization, shutdown, out of resources) stay retryable.
import { ApplicationFailure } from '@temporalio/common';

export interface PgError extends Error {
  code?: string;
  detail?: string;
  hint?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  dataType?: string;
  where?: string;
  database?: string; // set by connect(): the database the statement ran in
}

/**
 * Conditions of the database itself that no retry can lift: a read-only database or transaction
 * (25006: a standby, default_transaction_read_only, a failed-over primary) and a full disk (53100).
 * A person must act, so the run pauses at once with the database (and table) named.
 */
const FINAL_STATES: Record<string, string> = { '25006': 'is read-only', '53100': 'is out of disk space' };

/** SQLSTATE classes that a retry cannot fix: integrity (23), data (22), syntax/rights/undefined (42), unsupported (0A). */
const CERTAIN = ['23', '22', '42', '0A', '2B', '44'];

export function isPgError(e: unknown): e is PgError {
  return e instanceof Error && typeof (e as PgError).code === 'string' && /^[0-9A-Z]{5}$/.test((e as PgError).code!) && 'severity' in e;
}

/** The failure to raise for a PostgreSQL error: its message with the server's detail, typed by SQLSTATE. */
export function pgFailure(e: PgError): ApplicationFailure {
  const where = [
    e.table ? `table ${e.schema ? `${e.schema}.` : ''}${e.table}` : '',
    e.column ? `column ${e.column}` : '',
    e.constraint ? `constraint ${e.constraint}` : '',
  ].filter(Boolean).join(', ');
  const state = FINAL_STATES[e.code!];
  const message = [
    ...(state ? [`database ${e.database || '(unknown)'}${e.table ? ` (table ${e.schema ? `${e.schema}.` : ''}${e.table})` : ''} ${state}: a retry cannot help until that changes`] : []),
    `${e.message} (SQLSTATE ${e.code}${where ? `; ${where}` : ''})`,
    e.detail ? `DETAIL: ${e.detail}` : '',
    e.hint ? `HINT: ${e.hint}` : '',
  ].filter(Boolean).join('\n');
  const certain = CERTAIN.includes(e.code!.slice(0, 2)) || state !== undefined;
  // The retry policy lists final types by name: a transient error must not share one with them.
  const type = e.code!.startsWith('23') ? 'ConstraintViolation' : certain ? 'DatabaseError' : 'TransientDatabaseError';
  const details = { code: e.code, database: e.database, schema: e.schema, table: e.table, column: e.column, constraint: e.constraint, detail: e.detail, hint: e.hint };
  return ApplicationFailure.create({ type, message, nonRetryable: certain, details: [details], cause: e });
}
