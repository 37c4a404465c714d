// A deliberately non-deterministic build for test/replay.test.ts: the workflow calls an activity
// before its first step, as if a step had been added at the front of the table without a patch.
import { proxyActivities, type WorkflowInterceptors } from '@temporalio/workflow';

const added = proxyActivities<{ addedStep(): Promise<void> }>({ startToCloseTimeout: '1 minute' });

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [
    {
      async execute(input, next) {
        await added.addedStep();
        return next(input);
      },
    },
  ],
});
