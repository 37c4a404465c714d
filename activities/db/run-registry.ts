// cutover.run: one row per run, so the target itself tells which runs touched it and how far they got.
import type { Client } from 'pg';
import { planHash } from '../../plan/canonical';
import type { PublishResult, StepInput } from '../../common/results';
import { rollbackRefused } from '../errors';

export async function recordRun(client: Client, input: StepInput, status: string): Promise<void> {
  await client.query(
    `INSERT INTO cutover.run (run_key, plan_id, workflow_id, run_id, plan_hash, status, source_identity)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (run_key) DO UPDATE SET status = EXCLUDED.status, source_identity = coalesce(EXCLUDED.source_identity, cutover.run.source_identity)`,
    [
      input.runKey,
      input.plan.id,
      input.workflowId,
      input.runId,
      planHash(input.plan),
      status,
      ((id) => (id ? JSON.stringify(id) : null))(input.identities?.[input.plan.source]),
    ],
  );
}

/**
 * Inside the caller's transaction, lock this run's row and read what an undo needs: a retry after
 * a commit whose answer was lost gets the recorded result (`prior`; nothing else was written);
 * a run that never published is refused. `done` names the undo's columns (rolled_back / restored).
 */
export async function lockRunForUndo<R>(
  db: Client,
  input: StepInput,
  done: 'rolled_back' | 'restored',
  verb: string,
): Promise<{ prior: R } | { prior: null; publish: PublishResult | null; at: string }> {
  const result = done === 'rolled_back' ? 'rollback_result' : 'restore_result';
  // Row lock: an undo waits for a publish still committing, and a second undo for the first.
  const run = await db.query<{ published: boolean; prior: R | null; publish: PublishResult | null; at: string }>(
    `SELECT published_at IS NOT NULL AS published, CASE WHEN ${done}_at IS NOT NULL THEN ${result} END AS prior,
            publish_result AS publish, to_json(now()) #>> '{}' AS at
       FROM cutover.run WHERE run_key = $1 FOR UPDATE`,
    [input.runKey],
  );
  const row = run.rows[0];
  // Done before: the caller's transaction (activities/db/transaction.ts) ends having written nothing.
  if (row?.prior) return { prior: row.prior };
  if (!row?.published) throw rollbackRefused(`run ${input.runKey} (${input.plan.id}) has not published anything: nothing to ${verb}`);
  return { prior: null, publish: row.publish, at: row.at };
}
