// rollback_vs_publish: after a completed whole run, the surgical rollback of that run's rows, timed
// and set against the publish of the same rows. Called as the activity function itself (outside
// Temporal: no retries, no scheduling in the figure), on the run's Production, with the writer stopped
// so no application row references the run's rows (a blocked rollback is reported, not timed).
import { rollback } from '../activities/rollback';
import type { Plan } from '../plan';
import type { PublishResult } from '../common/results';
import { sql } from './generate';

export interface RollbackMeasure {
  seconds: number | null;
  rows: number;
  error: string | null;
}

export async function measureRollback(url: string, plan: Plan): Promise<RollbackMeasure> {
  const [run] = await sql<{ run_key: string; workflow_id: string; publish_result: PublishResult }>(
    url,
    `SELECT run_key, workflow_id, publish_result FROM cutover.run WHERE published_at IS NOT NULL ORDER BY published_at DESC LIMIT 1`,
  );
  if (!run) return { seconds: null, rows: 0, error: 'no published run in cutover.run' };
  const t0 = performance.now();
  try {
    const res = await rollback({ plan, runKey: run.run_key, workflowId: run.workflow_id, runId: 'bench', publish: run.publish_result });
    return { seconds: (performance.now() - t0) / 1000, rows: res.tables.reduce((a, t) => a + t.deleted, 0), error: null };
  } catch (e) {
    return { seconds: null, rows: 0, error: (e as Error).message.split('\n')[0] };
  }
}
