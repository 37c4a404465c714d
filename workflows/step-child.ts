// Workflow `cutoverStep`: one long step's activity, run as a child of a cutover run
// (workflows/children.ts) so that it outlives a continue-as-new of its parent. Its retries,
// heartbeats and progress are the activity's own; its result or failure is the step's.
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { CutoverActivities } from '../common/activities';
import { direct } from './proxies';

/** The long steps' activities (what a cutover run starts a cutoverStep for). */
const LONG_STEPS = new Set<keyof CutoverActivities>([
  'preflight', 'backup', 'stage', 'cleanup', 'publish', 'validate', 'accessChecks', 'erasure', 'rollback', 'restorePreview', 'restore', 'adoptCleanup', 'adoptRestore',
]);

export async function cutoverStep(input: { activity: keyof CutoverActivities; input: unknown }): Promise<unknown> {
  // Only a cutover run starts one (a person cannot start a child): no step runs outside a run's gates.
  if (!workflowInfo().parent) throw ApplicationFailure.nonRetryable('cutoverStep runs only as a child of a cutover run', 'PlanError');
  if (!LONG_STEPS.has(input?.activity)) throw ApplicationFailure.nonRetryable(`cutoverStep: ${String(input?.activity)} is not a long step`, 'PlanError');
  return (direct[input.activity] as (i: unknown) => Promise<unknown>)(input.input);
}
