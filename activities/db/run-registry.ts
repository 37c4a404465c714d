// cutover.run: one row per run, so the target itself tells which runs touched it and how far they got.
import type { Client } from 'pg';
import { planHash } from '../../plan/canonical';
import type { StepInput } from '../../common/results';

export async function recordRun(client: Client, input: StepInput, status: string): Promise<void> {
  await client.query(
    `INSERT INTO cutover.run (run_key, plan_id, workflow_id, run_id, plan_hash, status)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (run_key) DO UPDATE SET status = EXCLUDED.status`,
    [input.runKey, input.plan.id, input.workflowId, input.runId, planHash(input.plan), status],
  );
}
