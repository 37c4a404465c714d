// Validate and normalise a workflow's plan once, as a local activity: its answer is recorded in the
// run's history, so the plan and hash that approvers approve stay fixed even when a default in
// plan/ changes in a later build (replay reads the recorded answer instead of re-deriving it).
import { planHash } from '../plan/canonical';
import type { Plan } from '../plan/schema';
import { PlanError } from '../plan/issues';
import { validatePlan } from '../plan/validate';
import { planError } from './errors';

export async function acceptPlan(raw: unknown): Promise<{ plan: Plan; planHash: string }> {
  let plan: Plan;
  try {
    plan = validatePlan(raw);
  } catch (e) {
    if (e instanceof PlanError) throw planError(e);
    throw e;
  }
  return { plan, planHash: planHash(plan) };
}
