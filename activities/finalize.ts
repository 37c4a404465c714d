// Step 12, finalize: the evidence pack goes into cutover.evidence, staging is dropped, the run is completed.
import type { FinalizeInput } from '../common/results';
import { ident, withClient } from './db/connect';
import { ensureControlSchema } from './db/control-schema';
import { stagingSchema } from './db/staging';

export async function finalize(input: FinalizeInput): Promise<{ evidenceRows: number }> {
  // clean-start writes nothing to Production, not even its control schema: the evidence stays in
  // the run (query report) and the backup store.
  if (input.plan.strategy === 'clean-start') return { evidenceRows: 0 };
  return withClient(input.plan.target, async (target) => {
    await ensureControlSchema(target);
    await target.query('BEGIN');
    try {
      await target.query(
        `INSERT INTO cutover.evidence (run_key, plan_id, plan_hash, pack) VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_key) DO UPDATE SET pack = EXCLUDED.pack, written_at = now()`,
        [input.runKey, input.plan.id, input.pack.planHash, JSON.stringify(input.pack)],
      );
      await target.query(
        `INSERT INTO cutover.run (run_key, plan_id, workflow_id, run_id, plan_hash, status, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (run_key) DO UPDATE SET status = EXCLUDED.status, finished_at = now()`,
        [input.runKey, input.plan.id, input.workflowId, input.runId, input.pack.planHash, input.status],
      );
      await target.query(`DROP SCHEMA IF EXISTS ${ident(stagingSchema(input.runKey))} CASCADE`);
      await target.query('COMMIT');
      return { evidenceRows: 1 };
    } catch (e) {
      await target.query('ROLLBACK');
      throw e;
    }
  });
}
