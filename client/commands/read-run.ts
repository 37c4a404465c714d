// Read a run's status and evidence the way that works for its state: a closed run's answer is its
// result (kept by Temporal: no worker needed, a finished run is never queried); an open run is
// queried (its worker answers). `--run` reaches an earlier run of the same plan id. A run that
// failed (its plan refused) shows that failure's own message, not an SDK error. Every call is
// bounded (client/deadline.ts): a query nobody answers fails with the "no worker" message.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { reportQuery, statusQuery, type EvidencePack, type StatusView } from '../../common/temporal';
import { DEFAULT_CLI_TIMEOUT_MS, noServerError, noWorkerError, within } from '../deadline';
import { isOutcomeFailureType } from '../../common/outcome';
import { failed } from '../errors';
import { queryError } from './context';

export function runHandle(client: Client, workflowId: string, runId?: string): WorkflowHandle {
  return client.workflow.getHandle(workflowId, runId);
}

type Closed = StatusView & { evidence?: EvidencePack };

/**
 * A run that continued as new (its history grew large) is one run to its users: `--run <first run
 * id>` reads the run of the chain that is current (or ended last), found through each run's close
 * event. The handle's own result() would wait for the whole chain to end.
 */
function currentOfChain(handle: WorkflowHandle, workflowId: string, ms: number) {
  return within(
    handle.client,
    ms,
    () => noServerError(`description of ${workflowId}`, undefined, ms),
    () => chainEnd(handle, workflowId),
  );
}

async function chainEnd(handle: WorkflowHandle, workflowId: string) {
  let h = handle;
  for (let hops = 0; ; hops++) {
    const desc = await h.describe();
    if (desc.status.name !== 'CONTINUED_AS_NEW' || hops > 10_000) return { handle: h, desc };
    const { history } = await h.client.workflowService.getWorkflowExecutionHistory({
      namespace: h.client.options.namespace,
      execution: { workflowId, runId: desc.runId },
      historyEventFilterType: 2, // HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT: the close event alone
    });
    const next = history?.events?.[0]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) return { handle: h, desc };
    h = h.client.getHandle(workflowId, next);
  }
}

async function closedResult(start: WorkflowHandle, workflowId: string, ms: number): Promise<Closed | null> {
  const { handle, desc } = await currentOfChain(start, workflowId, ms);
  if (desc.status.name === 'RUNNING') return null;
  try {
    return (await handle.result()) as Closed;
  } catch (e) {
    if (e instanceof WorkflowFailedError) {
      const cause = e.cause as { message?: string; type?: string; details?: unknown[] } | undefined;
      // Rejected, expired, aborted, rolled back: closed as Failed, the result in the failure's details.
      const result = outcomeResult(cause);
      if (result) return result;
      throw failed(
        `run ${workflowId} (${desc.runId}) ${desc.status.name.toLowerCase()}: ${cause?.type ? `${cause.type}: ` : ''}${cause?.message ?? e.message}`,
      );
    }
    throw e;
  }
}

/** A query of an open run, answered by its worker within `ms`. */
function ask<T>(handle: WorkflowHandle, what: string, workflowId: string, ms: number, call: () => Promise<T>): Promise<T> {
  return within(handle.client, ms, () => noWorkerError(what, workflowId, ms), call).catch((err: unknown) => {
    throw queryError(err, what, workflowId, ms);
  });
}

/** The run's result carried by an outcome failure (common/outcome.ts), or null. */
export function outcomeResult(cause: { type?: string; details?: unknown[] } | undefined): Closed | null {
  const view = cause?.details?.[0] as Closed | undefined;
  return isOutcomeFailureType(cause?.type) && view && typeof view.status === 'string' ? view : null;
}

export async function readStatus(start: WorkflowHandle, workflowId: string, ms = DEFAULT_CLI_TIMEOUT_MS): Promise<StatusView> {
  const handle = (await currentOfChain(start, workflowId, ms)).handle;
  const closed = await closedResult(handle, workflowId, ms);
  if (closed) {
    const { evidence: _evidence, ...view } = closed;
    void _evidence;
    return view;
  }
  return ask(handle, 'status query', workflowId, ms, () => handle.query(statusQuery));
}

export async function readEvidence(start: WorkflowHandle, workflowId: string, ms = DEFAULT_CLI_TIMEOUT_MS): Promise<EvidencePack> {
  const handle = (await currentOfChain(start, workflowId, ms)).handle;
  const closed = await closedResult(handle, workflowId, ms);
  if (closed?.evidence) return closed.evidence;
  // Runs that ended before their result carried the evidence: ask a worker.
  return ask(handle, 'report query', workflowId, ms, () => handle.query(reportQuery));
}
