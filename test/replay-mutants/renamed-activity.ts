// A deliberately non-deterministic build for test/replay.test.ts: the dry run's activity is
// scheduled under another name, as if a step's activity had been swapped without a patch.
import type { WorkflowInterceptors } from '@temporalio/workflow';

export const interceptors = (): WorkflowInterceptors => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        return next(input.activityType === 'preflight' ? { ...input, activityType: 'preflightRenamed' } : input);
      },
    },
  ],
});
