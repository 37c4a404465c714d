// The activity proxies and their options, one place: `quick` for short activities, `direct` for the
// long steps' activities (run by the child workflows that hold them: workflows/step-child.ts and
// workflows/rehearsal.ts), `relay` for awaiting such a child from the run (workflows/children.ts).
import { proxyActivities } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { CutoverActivities } from '../common/activities';
import { NON_RETRYABLE } from '../common/failures';

export const retry: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 3,
  nonRetryableErrorTypes: [...NON_RETRYABLE],
};
export const quick = proxyActivities<CutoverActivities>({ startToCloseTimeout: '10 minutes', retry });
// Data steps heartbeat (progress, or a keep-alive while one statement runs): a dead worker shows within 2 minutes.
// The worker sends heartbeat details every 5 s (worker/run.ts HEARTBEAT_THROTTLE): live progress, not this timeout.
export const direct = proxyActivities<CutoverActivities>({ startToCloseTimeout: '12 hours', heartbeatTimeout: '2 minutes', retry });
// Awaiting holds nothing: a worker that dies while it waits is replaced by the next attempt (more of them than a step's).
export const relay = proxyActivities<CutoverActivities>({ startToCloseTimeout: '12 hours', heartbeatTimeout: '2 minutes', retry: { ...retry, maximumAttempts: 10 } });
