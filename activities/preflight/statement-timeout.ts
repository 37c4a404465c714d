// The dry run's statement timeout: preflight (and `cutover plan check --connect`, which runs it in
// the CLI) reads both databases with plan-supplied conditions; a huge or slow selection must not keep
// the Pilot busy for minutes, least of all after the CLI that asked was killed (PostgreSQL notices a
// vanished client only when it next writes to it). Each statement is cut at this limit instead.
import type { Client } from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { configError } from '../errors';

export const DRY_RUN_TIMEOUT_ENV = 'CUTOVER_DRY_RUN_STATEMENT_TIMEOUT';
/** Long enough for a real dry run's largest statement on millions of rows, short of "minutes after". */
export const DEFAULT_DRY_RUN_TIMEOUT = '120s';

/** The configured limit in PostgreSQL's own units (`90s`, `2min`, `500ms`; a bare number is ms). */
export function dryRunStatementTimeout(): string {
  const raw = (process.env[DRY_RUN_TIMEOUT_ENV] ?? '').trim() || DEFAULT_DRY_RUN_TIMEOUT;
  if (!/^\d+(ms|s|min|h)?$/.test(raw) || /^0+(ms|s|min|h)?$/.test(raw)) {
    throw configError(`${DRY_RUN_TIMEOUT_ENV}=${JSON.stringify(raw)}: must be a positive duration like 120s, 2min or 500ms`);
  }
  return raw;
}

/** Sets the limit for the rest of each session (the dry run's own connections only). */
export async function limitStatements(clients: Client[], timeout = dryRunStatementTimeout()): Promise<void> {
  for (const c of clients) await c.query(`SET statement_timeout = '${timeout}'`);
}

/** PostgreSQL's "canceling statement due to statement timeout" (57014) as an error a person can act on. */
export function asStatementTimeout(e: unknown, timeout: string): unknown {
  const pg = e as { code?: string; message?: string } | null;
  if (pg?.code !== '57014' || !/statement timeout/.test(pg.message ?? '')) return e;
  return ApplicationFailure.create({
    type: 'DatabaseError',
    nonRetryable: true,
    message: `dry run stopped: a statement ran longer than ${timeout} (${DRY_RUN_TIMEOUT_ENV}); narrow the plan's selection (fewer or simpler where/in items) or raise the limit`,
  });
}
