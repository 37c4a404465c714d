// One of the plan's access checks: its SQL against production in a READ ONLY transaction with a
// statement timeout, always rolled back; any row it returns fails it. PostgreSQL, not a parser of
// ours, refuses SQL that writes. The SQL goes through the extended protocol, which takes exactly
// one statement: "COMMIT; DELETE …" cannot end the read-only transaction and write after it.
import type { Client, CustomTypesConfig, QueryConfig } from 'pg';
import type { AccessCheckResult } from '../../common/results';

export const MAX_ROWS = 20;
const TIMEOUT = '30s';
/** Values as PostgreSQL prints them: exact, and JSON whatever the type (bytea, intervals, …). */
const asText = { getTypeParser: () => (v: string) => v } as unknown as CustomTypesConfig;
/** One statement only (extended protocol; `queryMode` is in pg 8.12+, not yet in @types/pg). */
const single = (text: string, types?: CustomTypesConfig) => ({ text, queryMode: 'extended', types }) as QueryConfig;

interface Pg {
  code?: string;
  message: string;
}

/** Run one check; never throws for the check's own failure (that is a result), only for lost connections. */
export async function runReadOnlyCheck(db: Client, check: { name: string; sql: string }): Promise<AccessCheckResult> {
  const started = Date.now();
  const done = (rows: Record<string, unknown>[], rowCount: number, error: string | null): AccessCheckResult => ({
    name: check.name, kind: 'plan', passed: error === null && rowCount === 0, rows: rows.slice(0, MAX_ROWS), rowCount, error, durationMs: Date.now() - started,
  });
  try {
    // A cursor reads the first rows and counts the rest in PostgreSQL; only a query can be a cursor.
    const viaCursor = await inReadOnly(db, async () => {
      await db.query(single(`DECLARE cutover_check NO SCROLL CURSOR FOR ${check.sql}`));
      const first = await db.query({ text: `FETCH ${MAX_ROWS} FROM cutover_check`, types: asText });
      const rest = await db.query('MOVE ALL FROM cutover_check');
      return { rows: first.rows, rowCount: first.rows.length + (rest.rowCount ?? 0) };
    });
    return done(viaCursor.rows, viaCursor.rowCount, null);
  } catch (e) {
    // 42601 syntax: not a query (INSERT, CALL, SHOW, …); 0A000: a data-modifying WITH. Run it as it
    // is: the read-only transaction decides, and its message is the check's answer.
    if (!['42601', '0A000'].includes((e as Pg).code ?? '')) return done([], 0, (e as Pg).message);
  }
  try {
    const res = await inReadOnly(db, () => db.query(single(check.sql, asText)));
    return done(res.rows ?? [], res.rows?.length ?? 0, null);
  } catch (e) {
    return done([], 0, (e as Pg).message);
  }
}

async function inReadOnly<T>(db: Client, fn: () => Promise<T>): Promise<T> {
  await db.query('BEGIN READ ONLY');
  try {
    await db.query(`SET LOCAL statement_timeout = '${TIMEOUT}'`);
    // Take the snapshot first: after it, SET TRANSACTION READ WRITE is refused.
    await db.query('SELECT 1');
    const out = await fn();
    const ro = await db.query<{ ro: string }>("SELECT current_setting('transaction_read_only') AS ro");
    if (ro.rows[0].ro !== 'on') throw { message: 'the check ended its read-only transaction (COMMIT/ROLLBACK in the SQL)' } satisfies Pg;
    return out;
  } finally {
    await db.query('ROLLBACK');
  }
}
