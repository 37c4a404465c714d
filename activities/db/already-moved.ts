// A completed plan is not re-applied by accident: Pilot rows that an earlier run already published
// into this Production (same Pilot database, rows still there: not rolled back, not restored away)
// are left behind as `already-moved:<run key>` instead of being copied again. Shared by the dry run
// and cleanup, so the approvers see exactly what cleanup will do. A deliberate re-run says so in the
// plan (`decision.rerun`), and then nothing is left behind for this reason.
import type { Client } from 'pg';
import type { DatabaseIdentity } from '../../common/results';
import type { Plan } from '../../plan/schema';
import { Binder } from './conditions';
import { keyJson } from './keys';
import type { ResolvedTable } from './resolve';

export interface EarlierRun {
  runKey: string;
  planId: string;
  status: string;
  publishedAt: string;
}

/**
 * Runs (other than `runKey`) whose published rows are still in this Production and came from the same
 * Pilot database: by its recorded identity, or — for runs recorded before identities were — by the
 * same plan id. None when the target has no control schema.
 */
export async function earlierRuns(db: Client, plan: Plan, runKey: string, pilot: DatabaseIdentity | undefined): Promise<EarlierRun[]> {
  const exists = await db.query<{ ok: boolean }>(
    `SELECT to_regclass('cutover.run') IS NOT NULL AND to_regclass('cutover.manifest') IS NOT NULL AS ok`,
  );
  if (!exists.rows[0].ok) return [];
  const hasIdentity = await db.query(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = 'cutover' AND table_name = 'run' AND column_name = 'source_identity'`,
  );
  const samePilot = hasIdentity.rowCount
    ? `((source_identity->>'systemIdentifier') = $2 AND (source_identity->>'databaseOid') = $3 OR source_identity IS NULL AND plan_id = $4)`
    : 'plan_id = $4';
  const res = await db.query<{ run_key: string; plan_id: string; status: string; published_at: string }>(
    `SELECT run_key, plan_id, status, to_json(published_at) #>> '{}' AS published_at FROM cutover.run
      WHERE run_key <> $1 AND published_at IS NOT NULL AND rolled_back_at IS NULL AND restored_at IS NULL AND ${samePilot}
      ORDER BY published_at`,
    [runKey, pilot?.systemIdentifier ?? '', String(pilot?.databaseOid ?? ''), plan.id],
  );
  return res.rows.map((r) => ({ runKey: r.run_key, planId: r.plan_id, status: r.status, publishedAt: r.published_at }));
}

/**
 * Only rows an earlier run inserted count: `keep` and `new` tables (a second insert would collide or
 * duplicate). An `ids: match` row merges with the row it finds, however often it runs.
 */
/** The runs whose rows cleanup leaves behind as already moved: none in a deliberate re-run (decision.rerun). */
export const excluded = (plan: Plan, earlier: EarlierRun[]): string[] => (plan.decision?.rerun ? [] : earlier.map((x) => x.runKey));

export const mayRepeat = (t: ResolvedTable) => t.spec.ids !== 'match';

/** Predicate over staged row `s` of `t`: an earlier run `earlier` moved it (its Pilot key is in that run's manifest). */
export function movedBy(b: Binder, t: ResolvedTable, earlier: string): string {
  return `${keyJson('s', t.key)} IN (SELECT m.key FROM cutover.manifest m
            WHERE m.run_key = ${b.bind(earlier, 'text')} AND m.table_name = ${b.bind(t.name, 'text')} AND m.outcome = 'moved')`;
}
