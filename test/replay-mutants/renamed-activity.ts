// A deliberately non-deterministic build for test/replay.test.ts: the dry run's activity is
// (and the rehearsal's first) scheduled under another name, as if a step's activity had been swapped without a patch.
import type { WorkflowInterceptors } from '@temporalio/workflow';

export const interceptors = (): WorkflowInterceptors => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        const renamed = ['preflight', 'rehearsalPrepare'].includes(input.activityType);
        return next(renamed ? { ...input, activityType: `${input.activityType}Renamed` } : input);
      },
    },
  ],
});
