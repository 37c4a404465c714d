// One of the plan's access checks, run so that it cannot write or escape whatever the worker's role:
// its SQL is parsed again here (plan/access-sql.ts: one SELECT, allowlisted built-ins only); it runs
// in a READ ONLY transaction, always rolled back, with pg_catalog first on the search_path, as the
// plan's accessCheckRole (verified to have no superuser, role-creating or write rights) or, without
// one, never as a superuser; its time limit is kept from outside (the worker cancels the query), so
// no setting inside the SQL lifts it; and a failing row is shown by its key (first column) or the
// plan's `show` columns only, never other values. Any row it returns fails it.
import type { Client, CustomTypesConfig, QueryConfig } from 'pg';
import type { AccessCheckResult } from '../../common/results';
import { accessSqlIssues, accessSqlProblem, loadSqlParser } from '../../plan/access-sql';
import type { Plan } from '../../plan/schema';
import { ident } from './connect';
import { accessRoleProblem } from './access-role';
import { inTransaction } from './transaction';

export const MAX_ROWS = 20;
export const ACCESS_CHECK_TIMEOUT_ENV = 'CUTOVER_ACCESS_CHECK_TIMEOUT';
const DEFAULT_TIMEOUT = '30s';
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, min: 60000, h: 3600000 };
/** Values as PostgreSQL prints them: exact, and JSON whatever the type (bytea, intervals, …). */
const asText = { getTypeParser: () => (v: string) => v } as unknown as CustomTypesConfig;
/** One statement only (extended protocol; `queryMode` is in pg 8.12+, not yet in @types/pg). */
const single = (text: string, types?: CustomTypesConfig) => ({ text, queryMode: 'extended', types }) as QueryConfig;

export interface PlanCheck {
  name: string;
  sql: string;
  show?: string[];
}

export interface CheckOptions {
  /** plan.accessCheckRole: SET LOCAL ROLE to it, after verifying it cannot write. */
  role?: string;
  /** Cancels the query running on `db` from another connection (the worker's side of the limit). */
  cancel: () => Promise<void>;
  /** The limit, in PostgreSQL's units (`30s`); default CUTOVER_ACCESS_CHECK_TIMEOUT or 30s. */
  timeout?: string;
}

interface Pg {
  code?: string;
  message: string;
}

/** The configured limit: `{text: '30s', ms: 30000}`; a bad setting is the check's error, not a crash. */
export function accessCheckTimeout(
  raw = (process.env[ACCESS_CHECK_TIMEOUT_ENV] ?? '').trim() || DEFAULT_TIMEOUT,
): { text: string; ms: number } | string {
  const m = /^(\d+)(ms|s|min|h)?$/.exec(raw);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? 'ms'] : 0;
  if (!m || ms <= 0 || ms > 24 * 3600000)
    return `${ACCESS_CHECK_TIMEOUT_ENV}=${JSON.stringify(raw)}: must be a positive duration like 30s, 2min or 500ms`;
  return { text: raw, ms };
}

/** Run one check; never throws for the check's own failure (that is a result), only for lost connections. */
export async function runReadOnlyCheck(db: Client, check: PlanCheck, opts: CheckOptions): Promise<AccessCheckResult> {
  const started = Date.now();
  const done = (rows: Record<string, unknown>[], rowCount: number, error: string | null): AccessCheckResult => ({
    name: check.name,
    kind: 'plan',
    passed: error === null && rowCount === 0,
    rows: rows.slice(0, MAX_ROWS),
    rowCount,
    error,
    durationMs: Date.now() - started,
  });
  // Again here, not only at plan check: a plan can reach the worker without the CLI.
  await loadSqlParser();
  const refused = accessSqlProblem(check.sql);
  if (refused) return done([], 0, `refused: accessChecks sql ${refused}`);
  const limit = accessCheckTimeout(opts.timeout);
  if (typeof limit === 'string') return done([], 0, limit);
  const roleProblem = await accessRoleProblem(db, opts.role);
  if (roleProblem) return done([], 0, roleProblem);

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void opts.cancel().catch(() => undefined);
  }, limit.ms);
  try {
    const out = await inReadOnly(db, limit.text, opts.role, async () => {
      // A cursor reads the first rows and counts the rest in PostgreSQL.
      await db.query(single(`DECLARE cutover_check NO SCROLL CURSOR FOR ${check.sql}`));
      const first = await db.query({ text: `FETCH ${MAX_ROWS} FROM cutover_check`, types: asText });
      const rest = await db.query('MOVE ALL FROM cutover_check');
      return {
        rows: first.rows as Record<string, unknown>[],
        columns: first.fields.map((f) => f.name),
        rowCount: first.rows.length + (rest.rowCount ?? 0),
      };
    });
    const shown = keysOnly(out.rows, out.columns, check.show);
    if (typeof shown === 'string') return done([], out.rowCount, shown);
    return done(shown, out.rowCount, null);
  } catch (e) {
    const pg = e as Pg;
    if (timedOut || (pg.code === '57014' && /statement timeout/.test(pg.message))) {
      return done(
        [],
        0,
        `cancelled at its time limit of ${limit.text} (${ACCESS_CHECK_TIMEOUT_ENV}; kept by the worker, no setting in the SQL can lift it)`,
      );
    }
    return done([], 0, withoutValues(pg));
  } finally {
    clearTimeout(timer);
  }
}

/** The rows reduced to their key: the columns `show` lists, else the first column. */
function keysOnly(rows: Record<string, unknown>[], columns: string[], show?: string[]): Record<string, unknown>[] | string {
  const keep = show ?? columns.slice(0, 1);
  const missing = keep.filter((c) => !columns.includes(c));
  if (missing.length)
    return `show: ${missing.map((c) => JSON.stringify(c)).join(', ')} not among the check's columns (${columns.join(', ')})`;
  return rows.map((r) => Object.fromEntries(keep.map((c) => [c, r[c]])));
}

/**
 * PostgreSQL's message without the values some carry: data exceptions (class 22, e.g. `invalid
 * input syntax for type integer: "ann@example.com"`) quote the offending value after a colon.
 */
function withoutValues(e: Pg): string {
  if (!e.code?.startsWith('22')) return e.message;
  return `${e.message.replace(/:.*$/s, '')} (value withheld)`;
}

async function inReadOnly<T>(db: Client, timeout: string, role: string | undefined, fn: () => Promise<T>): Promise<T> {
  // Whatever the check did is never kept: the transaction rolls back even when it succeeds.
  return inTransaction(
    db,
    async () => {
      await db.query(`SET LOCAL statement_timeout = '${timeout}'`);
      // Built-ins first: an unqualified lower() must not resolve to a public.lower someone created.
      await db.query("SELECT set_config('search_path', 'pg_catalog, ' || current_setting('search_path'), true)");
      if (role) await db.query(`SET LOCAL ROLE ${ident(role)}`);
      // Take the snapshot first: after it, SET TRANSACTION READ WRITE is refused.
      await db.query('SELECT 1');
      const out = await fn();
      const ro = await db.query<{ ro: string }>("SELECT current_setting('transaction_read_only') AS ro");
      if (ro.rows[0].ro !== 'on') throw { message: 'the check ended its read-only transaction (COMMIT/ROLLBACK in the SQL)' } satisfies Pg;
      return out;
    },
    { readOnly: true, end: 'rollback' },
  );
}

/**
 * Preflight's look ahead, before anything is written: the plan checks' SQL that would be refused
 * (accessChecks[i].sql) and a role they may not run as (accessCheckRole, or the worker's own), as
 * plan issues. A run that would publish and then only pause on them stops here instead.
 */
export async function accessChecksRefused(
  plan: Pick<Plan, 'accessChecks' | 'accessCheckRole'>,
  db: Client,
): Promise<{ path: string; message: string }[]> {
  if (!plan.accessChecks?.length) return [];
  await loadSqlParser();
  const issues = accessSqlIssues(plan);
  const role = await accessRoleProblem(db, plan.accessCheckRole);
  if (role) issues.push({ path: plan.accessCheckRole === undefined ? 'accessChecks' : 'accessCheckRole', message: role });
  return issues;
}
