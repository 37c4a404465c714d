// Workflow `cutoverErasureReplay` (`cutover erasure replay --target <alias> --since <time | backup>`):
// the step on-call takes after any restore of Production — every erasure re-applied, translated
// to today's Production keys, proven, with its own evidence pack (activities/erasure-replay.ts).
// A workflow of its own, one per target at a time (workflow id cutover-erasure-replay-<alias>), so
// it is durable and visible like a run, and never part of a run's history. Deterministic: all I/O
// is in the one activity; the replay key comes from the run id.
import { proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { CutoverActivities } from '../common/activities';
import { NON_RETRYABLE } from '../common/failures';
import type { ErasureReplayResult } from '../common/results';
import type { ErasureReplayRequest } from '../common/temporal';

const act = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 3, initialInterval: '5 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE] },
});

export async function cutoverErasureReplay(input: ErasureReplayRequest): Promise<ErasureReplayResult> {
  const info = workflowInfo();
  setCurrentDetails(
    `**erasure replay** on \`${input.target}\` since \`${input.since}\`, initiated by ${input.initiatedBy}: re-applying every erasure after a restore (see README, *After any restore of Production*).`,
  );
  const result = await act.erasureReplay({
    ...input,
    replayKey: `replay-${info.firstExecutionRunId.replace(/-/g, '').slice(0, 12)}`,
    workflowId: info.workflowId,
    runId: info.runId,
  });
  setCurrentDetails(
    `**erasure replay** on \`${input.target}\` since \`${input.since}\` (${result.sinceAt}): ${result.runs.length} run(s) replayed, ${result.runs.reduce((a, r) => a + r.applied, 0)} request(s) applied, residue ${result.residue}; evidence sha256 \`${result.sha256}\`${result.location ? ` at ${result.location}` : ''} and in cutover.erasure_replay.`,
  );
  return result;
}
