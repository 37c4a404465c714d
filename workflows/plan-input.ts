// The workflow's input, accepted once: initiator checked, plan validated and normalised by a local
// activity whose answer is recorded in history (so a later default in plan/ cannot change a running
// workflow's plan or hash).
import { ActivityFailure, ApplicationFailure, proxyLocalActivities } from '@temporalio/workflow';
import type { CutoverActivities } from '../common/activities';
import { planFailure, planIssuesOf } from '../common/plan-failure';
import type { WorkflowInput } from '../common/temporal';
import type { Plan } from '../plan/schema';

const local = proxyLocalActivities<CutoverActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['PlanError'] },
});

/**
 * The approved plan is fixed once: validated and normalised by a local activity whose answer is
 * recorded in history, so a later change of a default in plan/ cannot change a running workflow's
 * plan or hash on replay.
 */
export async function acceptInput(input: WorkflowInput): Promise<{ plan: Plan; planHash: string }> {
  if (!input || typeof input !== 'object') throw planFailure({ path: '(input)', message: 'must be {plan, initiatedBy}' });
  if (typeof input.initiatedBy !== 'string' || input.initiatedBy.trim() === '') {
    throw planFailure({ path: 'initiatedBy', message: 'required (who starts this run)' });
  }
  try {
    return await local.acceptPlan(input.plan);
  } catch (e) {
    // The refusal as the activity made it (common/plan-failure.ts): the run fails with the same
    // issues (not the activity's own failure, which also carries its attempt number).
    const cause = e instanceof ActivityFailure ? e.cause : e;
    if (cause instanceof ApplicationFailure && cause.type === 'PlanError')
      throw planFailure(planIssuesOf(cause) ?? { path: '(plan)', message: cause.message });
    throw e;
  }
}
