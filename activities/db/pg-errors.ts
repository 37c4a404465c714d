// PostgreSQL's own words for a failure, kept: a paused run's error names the table, constraint,
// key, DETAIL and HINT the server gave (they used to be only in the worker log), and failures that
// will fail the same way on every retry (a constraint, bad data, a missing object or right) are
// final at once instead of being retried three times. Transient ones (connection lost, deadlock,
// serialization, shutdown, out of resources) stay retryable. Row values in them are withheld from
// the message (./row-values.ts) and kept only in the encrypted details.
import { ApplicationFailure } from '@temporalio/common';
import { reduceDetail, reduceMessage, withholdValuesIn } from './row-values';

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

/**
 * Whether the values a DETAIL quotes for `constraint` are keys (./row-values.ts): a primary key, or
 * a foreign key pointing at the referenced table's primary key. Asked of the catalog.
 */
export const KEY_VALUES_SQL = `
  SELECT c.contype = 'p' OR (c.contype = 'f' AND EXISTS (
           SELECT 1 FROM pg_constraint p WHERE p.conrelid = c.confrelid AND p.contype = 'p'
              AND (SELECT array_agg(x ORDER BY x) FROM unnest(p.conkey) x) = (SELECT array_agg(x ORDER BY x) FROM unnest(c.confkey) x))) AS key
    FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
   WHERE n.nspname = $1 AND r.relname = $2 AND c.conname = $3`;

/** Answers whether a constraint's quoted values are keys; false when it cannot tell. */
export type KeyValuesLookup = (schema: string, table: string, constraint: string) => Promise<boolean>;

/**
 * The failure to raise for a PostgreSQL error, typed by SQLSTATE. Its message (shown in status,
 * the step history, the evidence and the worker log) names the table, column and constraint, with
 * the DETAIL reduced to key columns (./row-values.ts); the server's full words (message, DETAIL,
 * HINT, CONTEXT) are in the failure's details only, which the codec encrypts. No `cause`: the pg
 * error object carries the full DETAIL, and loggers print an error's cause.
 */
export async function pgFailure(e: PgError, keyValues?: KeyValuesLookup): Promise<ApplicationFailure> {
  const code = e.code!;
  const where = [
    e.table ? `table ${e.schema ? `${e.schema}.` : ''}${e.table}` : '',
    e.column ? `column ${e.column}` : '',
    e.constraint ? `constraint ${e.constraint}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const state = FINAL_STATES[code];
  const keys =
    Boolean(e.detail?.startsWith('Key (') && e.schema && e.table && e.constraint && keyValues) &&
    (await keyValues!(e.schema!, e.table!, e.constraint!).catch(() => false));
  const message = [
    ...(state
      ? [
          `database ${e.database || '(unknown)'}${e.table ? ` (table ${e.schema ? `${e.schema}.` : ''}${e.table})` : ''} ${state}: a retry cannot help until that changes`,
        ]
      : []),
    `${reduceMessage(e.message, code)} (SQLSTATE ${code}${where ? `; ${where}` : ''})`,
    e.detail ? `DETAIL: ${reduceDetail(e.detail, code, keys, e.constraint)}` : '',
    e.hint ? `HINT: ${withholdValuesIn(e.hint)}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  const certain = CERTAIN.includes(code.slice(0, 2)) || state !== undefined;
  // The retry policy lists final types by name: a transient error must not share one with them.
  const type = code.startsWith('23') ? 'ConstraintViolation' : certain ? 'DatabaseError' : 'TransientDatabaseError';
  const details = {
    code,
    database: e.database,
    schema: e.schema,
    table: e.table,
    column: e.column,
    constraint: e.constraint,
    message: e.message,
    detail: e.detail,
    hint: e.hint,
    where: e.where,
  };
  return ApplicationFailure.create({ type, message, nonRetryable: certain, details: [details] });
}
