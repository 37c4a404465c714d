// A deliberately non-deterministic build for test/replay.test.ts: every activity the workflow
// schedules goes under another name, as if a step's activity had been swapped without a patch.
import type { WorkflowInterceptors } from '@temporalio/workflow';

export const interceptors = (): WorkflowInterceptors => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        return next({ ...input, activityType: `${input.activityType}Renamed` });
      },
    },
  ],
});
