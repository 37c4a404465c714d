// Drive a run through the Temporal client the way an operator would.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection, type WorkflowHandle } from '@temporalio/client';
import { temporalBin } from '../../harness/temporal-bin';
import { statusQuery, TASK_QUEUE, WORKFLOW_TYPE, workflowIdFor, type StatusView } from '../../common/temporal';

export async function startRun(
  env: TestWorkflowEnvironment,
  plan: Record<string, unknown>,
  initiatedBy = 'alice',
): Promise<WorkflowHandle> {
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
 * `CUTOVER_RECORD_HISTORIES=1 npx jest test/<file>` records the histories test/replay.test.ts
 * replays, as test/histories/<name>.json (replacing the one recorded before). The history is the
 * temporal CLI's JSON (`workflow show --output json`), the form Temporal documents for replay.
 */
export async function record(handle: WorkflowHandle, name: string) {
  if (!process.env.CUTOVER_RECORD_HISTORIES) return;
  const connection = handle.client.connection;
  if (!(connection instanceof Connection)) throw new Error('record: the handle has no client connection to read the address from');
  // The run the handle names (the latest run of the id when it names none), as of now.
  const { runId } = await handle.describe();
  const json = execFileSync(
    temporalBin(),
    [
      'workflow',
      'show',
      '--address',
      connection.options.address,
      '--namespace',
      handle.client.options.namespace,
      '--workflow-id',
      handle.workflowId,
      '--run-id',
      runId,
      '--output',
      'json',
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  writeFileSync(path.join(__dirname, '..', 'histories', `${name}.json`), json);
}
