// The workflow's input, accepted once: initiator checked, plan validated and normalised by a local
// activity whose answer is recorded in history (so a later default in plan/ cannot change a running
// workflow's plan or hash).
import { ActivityFailure, ApplicationFailure, proxyLocalActivities } from '@temporalio/workflow';
import type { CutoverActivities } from '../common/activities';
import type { WorkflowInput } from '../common/temporal';
import type { Plan } from '../plan/schema';

const local = proxyLocalActivities<CutoverActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['PlanError'] } });

/**
 * The approved plan is fixed once: validated and normalised by a local activity whose answer is
 * recorded in history, so a later change of a default in plan/ cannot change a running workflow's
 * plan or hash on replay.
 */
export async function acceptInput(input: WorkflowInput): Promise<{ plan: Plan; planHash: string }> {
  if (!input || typeof input !== 'object') throw ApplicationFailure.nonRetryable('input must be {plan, initiatedBy}', 'PlanError');
  if (typeof input.initiatedBy !== 'string' || input.initiatedBy.trim() === '') {
    throw ApplicationFailure.nonRetryable('initiatedBy: required (who starts this run)', 'PlanError');
  }
  try {
    return await local.acceptPlan(input.plan);
  } catch (e) {
    const cause = e instanceof ActivityFailure && e.cause instanceof ApplicationFailure ? e.cause : null;
    if (cause?.type === 'PlanError') throw ApplicationFailure.nonRetryable(cause.message, 'PlanError');
    throw e;
  }
}

