// What has been done to a run's staging, recorded in the staging schema itself. A guard kept here
// lives and dies with the staged rows it describes: when staging is rebuilt (a Temporal reset back
// to before stage, a manual drop) the guards go with it, so cleanup runs again on the new rows
// instead of trusting a result that described the old ones.
import type { Client } from 'pg';
import { stagingLost } from '../errors';
import type { StagingNames } from './staging';

export async function createStepLog(db: Client, names: StagingNames): Promise<void> {
  await db.query(
    `CREATE TABLE IF NOT EXISTS ${names.steps()} (step text PRIMARY KEY, result jsonb, at timestamptz NOT NULL DEFAULT now())`,
  );
}

export async function markStep(db: Client, names: StagingNames, step: string, result: unknown): Promise<void> {
  await db.query(
    `INSERT INTO ${names.steps()} (step, result) VALUES ($1, $2) ON CONFLICT (step) DO UPDATE SET result = EXCLUDED.result, at = now()`,
    [step, JSON.stringify(result)],
  );
}

/** The recorded result of `step` on this staging, or null. */
export async function stepResult<T>(db: Client, names: StagingNames, step: string): Promise<T | null> {
  const r = await db.query<{ result: T }>(`SELECT result FROM ${names.steps()} WHERE step = $1`, [step]);
  return r.rows[0]?.result ?? null;
}

/** Steps after stage need a complete staging; otherwise the workflow stages again (StagingLost). */
export async function requireStaged(db: Client, names: StagingNames): Promise<void> {
  const exists = await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [names.steps()]);
  if (!exists.rows[0].ok || (await stepResult(db, names, 'stage')) === null) {
    throw stagingLost(`staging ${names.schema} is gone or incomplete (a Temporal reset, or dropped by hand): it has to be staged again`);
  }
}
