// Drive a run through the Temporal client the way an operator would.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { statusQuery, TASK_QUEUE, WORKFLOW_TYPE, workflowIdFor, type StatusView } from '../../common/temporal';

export async function startRun(env: TestWorkflowEnvironment, plan: Record<string, unknown>, initiatedBy = 'alice'): Promise<WorkflowHandle> {
  return env.client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: TASK_QUEUE,
    workflowId: workflowIdFor(String(plan.id)),
    args: [{ plan, initiatedBy }],
  });
}

/** Poll the status query until `pred` holds (the workflow runs on a real server: no time skipping). */
export async function waitFor(handle: WorkflowHandle, pred: (s: StatusView) => boolean, timeoutMs = 60000): Promise<StatusView> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusView | undefined;
  while (Date.now() < deadline) {
    try {
      // Bounded: a query no worker answers must not outlast the deadline.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('query unanswered')), 15000)));
      last = await Promise.race([handle.query(statusQuery), late]).finally(() => clearTimeout(timer));
      if (pred(last)) return last;
    } catch {
      // not started yet, or no worker answered in time
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out; last status ${JSON.stringify(last, null, 1)}`);
}

/** What an approval of gate plan must acknowledge: the refusals the dry run predicts (status mustAcknowledge). */
export const acknowledging = (s: StatusView): { acknowledge?: string[] } =>
  s.gate === 'plan' && s.mustAcknowledge?.length ? { acknowledge: s.mustAcknowledge.map((x) => x.reason) } : {};

export const atGate = (gate: string) => (s: StatusView) => s.status === 'awaiting-approval' && s.gate === gate;
export const paused = (s: StatusView) => s.status === 'paused';

/**
 * `CUTOVER_RECORD_HISTORIES=<tag> npx jest test/workflow` records the histories the replay test
 * replays, as <name>.<tag>.json next to the older ones (which keep guarding runs started before).
 */
export async function record(handle: WorkflowHandle, name: string) {
  const tag = process.env.CUTOVER_RECORD_HISTORIES;
  if (!tag) return;
  const history = await handle.fetchHistory();
  writeFileSync(path.join(__dirname, '..', 'histories', tag === '1' ? `${name}.json` : `${name}.${tag}.json`), historyToJSON(history));
}

