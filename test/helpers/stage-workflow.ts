// A test-only workflow: the stage activity alone, with the heartbeat timeout and attempts the test
// picks, so a test sees what a heartbeat timeout or a lost connection does to stage attempts.
import type { Duration } from '@temporalio/common';
import { proxyActivities } from '@temporalio/workflow';
import type { CutoverActivities } from '../../common/activities';
import type { StageInput } from '../../common/results';
import type { StageResult } from '../../common/results';

export async function stageOnly(input: StageInput, heartbeatTimeout: Duration, maximumAttempts: number): Promise<StageResult> {
  const { stage } = proxyActivities<CutoverActivities>({
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout,
    retry: { initialInterval: '200ms', maximumAttempts },
  });
  return stage(input);
}
