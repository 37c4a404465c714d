// The outcome of a step that runs as a child workflow (workflows/children.ts), awaited by the run
// that needs it — the one that started the child, or a later run of the chain when the run
// continued as new meanwhile (the child is abandoned to run on, not cancelled). Through the
// worker's own Temporal client (public API): the child's result, or its failure as the step's;
// meanwhile the child's latest heartbeat is heartbeated again here, so the run's pending activity
// shows the step's live progress where it always did (`cutover status --watch`, the UI).
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, arrayFromPayloads, type LoadedDataConverter, type Payload, type TemporalFailure } from '@temporalio/common';
import type { AwaitStepInput } from '../common/results';

/** How often the child's progress is read while it runs (the worker sends heartbeats every 5 s anyway). */
const POLL_MS = 3000;

export async function awaitStep(input: AwaitStepInput): Promise<unknown> {
  const ctx = Context.current();
  const client = ctx.client;
  const handle = client.workflow.getHandle(input.workflowId);
  let settled = false;
  const outcome = client.withAbortSignal(ctx.cancellationSignal, () => handle.result());
  outcome.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    await Promise.race([outcome.catch(() => undefined), sleep(POLL_MS, undefined, { signal: ctx.cancellationSignal })]);
    if (settled) break;
    ctx.heartbeat(await childProgress(handle, client.options.loadedDataConverter, input.within).catch(() => undefined));
  }
  try {
    return await outcome;
  } catch (e) {
    if (ctx.cancellationSignal.aborted) throw e;
    throw asStepFailure(e);
  }
}

/** The child's failure as the step's own: its activity's ApplicationFailure (type, message, details), final here. */
function asStepFailure(e: unknown): unknown {
  let cause: unknown = e;
  for (let i = 0; i < 5 && cause instanceof Error && !(cause instanceof ApplicationFailure); i++) cause = (cause as TemporalFailure).cause;
  if (!(cause instanceof ApplicationFailure)) return ApplicationFailure.create({ type: 'StepChildFailed', message: `the step's child workflow did not complete: ${(e as Error)?.message ?? String(e)}`, nonRetryable: true });
  const failure = ApplicationFailure.create({ type: cause.type ?? 'Error', message: cause.message, details: cause.details ? [...cause.details] : undefined, nonRetryable: true });
  failure.stack = cause.stack ?? '';
  return failure;
}

/** The child's pending activity's heartbeat details, decoded (marked as within the rehearsal when it is one's). */
async function childProgress(handle: WorkflowHandle, converter: LoadedDataConverter, within?: string): Promise<unknown> {
  const desc = await handle.describe();
  for (const pa of desc.raw.pendingActivities ?? []) {
    const payloads = pa.heartbeatDetails?.payloads;
    if (!payloads?.length) continue;
    const [details] = await decodeDetails(payloads, converter);
    if (within && details && typeof details === 'object' && !Array.isArray(details)) return { ...(details as object), within };
    return details;
  }
  return undefined;
}

/** Through the client's codecs (the last one first, as the SDK encodes) and then its payload converter. */
async function decodeDetails(payloads: Payload[], converter: LoadedDataConverter): Promise<unknown[]> {
  let decoded = payloads;
  for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return arrayFromPayloads(converter.payloadConverter, decoded);
}
