// adopt, after gate cutover: the decision recorded. The cleaned Pilot counts as Production from
// plan.adoptFrom: written to the Pilot's cutover.run (adopt_from, adopted_at) and returned, so the
// step result and the evidence pack carry the date. Nothing moves and Production is not opened.
import type { AdoptResult, StepInput } from '../common/results';
import { withClient } from './db/connect';
import { ensureControlSchema } from './db/control-schema';
import { planIssue } from './errors';

export async function adopt(input: StepInput): Promise<AdoptResult> {
  const { plan, runKey } = input;
  if (plan.strategy !== 'adopt' || !plan.adoptFrom)
    throw planIssue('adoptFrom', 'adopt: only an adopt run (with adoptFrom) records an adoption');
  return withClient(plan.source, async (pilot) => {
    await ensureControlSchema(pilot);
    // Idempotent: a retry records the same date and keeps the first adopted_at.
    const res = await pilot.query<{ d: string; at: string }>(
      `UPDATE cutover.run SET status = 'adopted', adopt_from = $2::date, adopted_at = coalesce(adopted_at, now())
        WHERE run_key = $1 AND cleanup_result IS NOT NULL
        RETURNING current_database() AS d, to_json(adopted_at) #>> '{}' AS at`,
      [runKey, plan.adoptFrom],
    );
    if (res.rowCount !== 1) throw planIssue('source', `adopt: run ${runKey} has not cleaned ${plan.source}: nothing to adopt`);
    const { d, at } = res.rows[0];
    return {
      database: d,
      adoptFrom: plan.adoptFrom!,
      recordedAt: at,
      note: `${d} (${plan.source}) is Production from ${plan.adoptFrom}; ${plan.target} was not written to`,
    };
  });
}
