// A deliberately non-deterministic build for test/replay.test.ts: the workflow starts with a timer
// no recorded run had. Bundled as a workflow interceptor, so it tests the replay without touching
// workflows/; replaying any recorded history against it must fail.
import { sleep, type WorkflowInterceptors } from '@temporalio/workflow';

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [
    {
      async execute(input, next) {
        await sleep('1 second');
        return next(input);
      },
    },
  ],
});
