// Read a run's status and evidence the way that works for its state: a closed run's answer is its
// result (kept by Temporal: no worker needed, a finished run is never queried); an open run is
// queried (its worker answers). `--run` reaches an earlier run of the same plan id. A run that
// failed (its plan refused) shows that failure's own message, not an SDK error.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { reportQuery, statusQuery, type EvidencePack, type StatusView } from '../../common/temporal';
import { failed } from '../errors';
import { queryError } from './context';

export function runHandle(client: Client, workflowId: string, runId?: string): WorkflowHandle {
  return client.workflow.getHandle(workflowId, runId);
}

type Closed = StatusView & { evidence?: EvidencePack };

async function closedResult(handle: WorkflowHandle, workflowId: string): Promise<Closed | null> {
  const desc = await handle.describe();
  if (desc.status.name === 'RUNNING') return null;
  try {
    return (await handle.result()) as Closed;
  } catch (e) {
    if (e instanceof WorkflowFailedError) {
      const cause = e.cause as { message?: string; type?: string } | undefined;
      throw failed(`run ${workflowId} (${desc.runId}) ${desc.status.name.toLowerCase()}: ${cause?.type ? `${cause.type}: ` : ''}${cause?.message ?? e.message}`);
    }
    throw e;
  }
}

export async function readStatus(handle: WorkflowHandle, workflowId: string): Promise<StatusView> {
  const closed = await closedResult(handle, workflowId);
  if (closed) {
    const { evidence: _evidence, ...view } = closed;
    void _evidence;
    return view;
  }
  return handle.query(statusQuery).catch((err: unknown) => {
    throw queryError(err, workflowId);
  });
}

export async function readEvidence(handle: WorkflowHandle, workflowId: string): Promise<EvidencePack> {
  const closed = await closedResult(handle, workflowId);
  if (closed?.evidence) return closed.evidence;
  // Runs that ended before their result carried the evidence: ask a worker.
  return handle.query(reportQuery).catch((err: unknown) => {
    throw queryError(err, workflowId);
  });
}
