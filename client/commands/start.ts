// `cutover start <plan> [--as NAME] [--wait] [--json]`
import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { statusQuery, TASK_QUEUE, WORKFLOW_TYPE, workflowIdFor } from '../../common/temporal';
import type { StatusView, WorkflowInput } from '../../common/temporal';
import { planHash } from '../../plan/canonical';
import { workflowUiLink } from '../connection';
import { EXIT_FAILED, EXIT_OK, failed } from '../errors';
import { startDetails, startSummary } from '../format/plan';
import { resolveActor } from '../options';
import { initialSearchAttributes } from '../search-attributes';
import type { CommandContext } from './context';
import { fromServer, fromWorker, printJson, sleep } from './context';
import { loadPlan } from './plan';
import { outcomeResult } from './read-run';

export interface StartOptions {
  as?: string;
  wait?: boolean;
  json?: boolean;
}

export async function start(ctx: CommandContext, file: string, opts: StartOptions): Promise<void> {
  const plan = await loadPlan(file);
  const initiatedBy = resolveActor(opts.as, ctx.env);
  const hash = planHash(plan);
  const workflowId = workflowIdFor(plan.id);
  const client = await ctx.temporal.client();
  const input: WorkflowInput = { plan, initiatedBy };
  let handle: WorkflowHandleWithFirstExecutionRunId;
  try {
    handle = await fromServer(ctx, client, 'start', () =>
      client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [input],
        typedSearchAttributes: initialSearchAttributes(plan.id, plan.decision?.change),
        staticSummary: startSummary(plan, initiatedBy),
        staticDetails: startDetails(plan, hash, initiatedBy),
      }),
    );
  } catch (err) {
    throw startError(err, workflowId, plan.id);
  }
  const runId = handle.firstExecutionRunId;
  const ui = workflowUiLink(ctx.temporal.settings, workflowId);
  if (opts.json) {
    printJson(ctx.io, { workflowId, runId, planHash: hash, ui });
  } else {
    ctx.io.out(
      [`started ${workflowId}`, `workflow id: ${workflowId}`, `run id:      ${runId}`, `plan hash:   ${hash}`, `ui:          ${ui}`].join(
        '\n',
      ),
    );
  }
  if (opts.wait) {
    const final = await waitForEnd(ctx, handle);
    if (opts.json) printJson(ctx.io, { workflowId, runId, status: final });
    else ctx.io.out(`finished: ${final}`);
    ctx.exitCode = final === 'completed' ? EXIT_OK : EXIT_FAILED;
  }
}

function startError(err: unknown, workflowId: string, planId: string): Error {
  if (!(err instanceof Error)) return failed(String(err));
  if (err.name === 'WorkflowExecutionAlreadyStartedError') {
    return failed(`a cutover for plan ${planId} is already running (workflow id ${workflowId}); see: cutover status ${planId}`);
  }
  const message = (err as { cause?: Error }).cause?.message ?? err.message;
  if (/search attribute/i.test(message)) {
    return failed(
      `cannot start ${workflowId}: ${message} — register the search attributes first: ` +
        'temporal operator search-attribute create --name CutoverStatus --type Keyword (and CutoverPhase, CutoverPlanId, CutoverChange)',
    );
  }
  return err;
}

/** Wait for the run to close, telling stderr about status/phase/gate changes as they happen. */
async function waitForEnd(ctx: CommandContext, handle: WorkflowHandle): Promise<string> {
  let done = false;
  let last = '';
  const watcher = (async () => {
    while (!done) {
      try {
        const v = await fromWorker(ctx, handle.client, 'status query', handle.workflowId, () => handle.query(statusQuery));
        const line = `${v.status} — phase ${v.phase}${v.gate ? `, awaiting approval of gate ${v.gate}` : ''}${v.error && v.status === 'paused' ? `: ${v.error.message}` : ''}`;
        if (line !== last && !done) ctx.io.err(`[${new Date().toISOString()}] ${line}`);
        last = line;
      } catch {
        // no worker yet, or the run just closed: keep waiting for the result
      }
      await sleep(2000);
    }
  })();
  try {
    const result: unknown = await handle.result();
    const status = statusOf(result);
    if (status) return status;
    const v: StatusView = await handle.query(statusQuery);
    return v.status;
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowFailedError') {
      const cause = (err as { cause?: Error & { type?: string; details?: unknown[] } }).cause;
      const outcome = outcomeResult(cause);
      if (outcome) return outcome.status; // rejected, expired, aborted, rolled back
      ctx.io.err(`workflow failed: ${cause?.message ?? err.message}`);
      return 'failed';
    }
    throw err;
  } finally {
    done = true;
    await watcher;
  }
}

function statusOf(result: unknown): string | undefined {
  if (result && typeof result === 'object' && typeof (result as { status?: unknown }).status === 'string') {
    return (result as { status: string }).status;
  }
  return undefined;
}
