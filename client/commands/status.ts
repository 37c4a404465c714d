// `cutover status <id> [--watch] [--json]`
import type { Client, WorkflowHandle } from '@temporalio/client';
import { arrayFromPayloads, type LoadedDataConverter, type Payload } from '@temporalio/common';
import { REHEARSAL_WORKFLOW_TYPE, type EvidencePack, type StatusView } from '../../common/temporal';
import { EXIT_FAILED, EXIT_OK } from '../errors';
import { formatStatus, progressFromHeartbeat } from '../format/status';
import type { LiveProgress } from '../format/status';
import { stepProgressFrom } from '../format/progress';
import { isStepProgress, type StepProgress } from '../../common/progress';
import { isTerminal, toWorkflowId } from '../options';
import type { CommandContext } from './context';
import { fromServer, printJson, sleep } from './context';
import { readEvidence, readStatus, runHandle } from './read-run';

export interface StatusOptions {
  watch?: boolean;
  json?: boolean;
  intervalMs?: number;
  /** An earlier run of the same plan id (its run id). */
  run?: string;
}

/** Through the client's codecs (the last one first, as the SDK encodes) and then its payload converter. */
async function decodePayloads(converter: LoadedDataConverter, payloads: Payload[]): Promise<unknown[]> {
  let decoded = payloads;
  for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return arrayFromPayloads(converter.payloadConverter, decoded);
}

/**
 * The run's pending activities' heartbeat details, decoded (undecodable ones left out), and those of
 * its running child workflows (the rehearsal runs its sub-steps in one, id `<run>/rehearsal/<n>`),
 * marked as within it.
 */
async function pendingDetails(client: Client, handle: WorkflowHandle, depth = 0): Promise<{ activity?: string; details: unknown }[]> {
  const desc = await handle.describe();
  const out: { activity?: string; details: unknown }[] = [];
  for (const child of depth === 0 ? (desc.raw.pendingChildren ?? []) : []) {
    if (!child.workflowId) continue;
    const inner = await pendingDetails(client, client.workflow.getHandle(child.workflowId, child.runId ?? undefined), 1).catch(() => []);
    const within = child.workflowTypeName === REHEARSAL_WORKFLOW_TYPE ? 'rehearsal' : (child.workflowTypeName ?? 'child');
    for (const p of inner) out.push({ ...p, details: withinChild(p.details, within) });
  }
  for (const pa of desc.raw.pendingActivities ?? []) {
    const payloads = pa.heartbeatDetails?.payloads;
    if (!payloads?.length) continue;
    try {
      const details = await decodePayloads(client.options.loadedDataConverter, payloads);
      out.push({ activity: pa.activityType?.name ?? undefined, details: details.length === 1 ? details[0] : details });
    } catch {
      // undecodable details are not progress
    }
  }
  return out;
}

/** A child's step progress names the step it runs within (`rehearsal → stage`). */
function withinChild(details: unknown, within: string): unknown {
  return isStepProgress(details) ? { ...details, within } : details;
}

/** Progress reported by the run's pending activities through their heartbeats, per table. */
export async function liveProgress(client: Client, handle: WorkflowHandle): Promise<LiveProgress[]> {
  return (await pendingDetails(client, handle)).flatMap((p) => progressFromHeartbeat(p.details, p.activity));
}

/** The pending activities' progress in the common shape (per step: tables, rows, elapsed). */
export async function liveSteps(client: Client, handle: WorkflowHandle): Promise<StepProgress[]> {
  return (await pendingDetails(client, handle)).flatMap((p) => stepProgressFrom(p.details));
}

export async function status(ctx: CommandContext, id: string, opts: StatusOptions): Promise<void> {
  const workflowId = toWorkflowId(id);
  const client = await ctx.temporal.client();
  const handle = runHandle(client, workflowId, opts.run);
  const query = (): Promise<StatusView> => readStatus(handle, workflowId, ctx.timeoutMs);
  // At a gate: the evidence pack as it stands, for the whole decision (what the UI's details show).
  // A worker that cannot answer it (older code) leaves the shorter status, not an error.
  const evidence = async (view: StatusView): Promise<EvidencePack | undefined> =>
    view.gate && !opts.json ? readEvidence(handle, workflowId, ctx.timeoutMs).catch(() => undefined) : undefined;
  if (!opts.watch) {
    const view = await query();
    if (opts.json) printJson(ctx.io, view);
    else ctx.io.out(formatStatus(view, { workflowId, evidence: await evidence(view) }));
    return;
  }
  const interval = opts.intervalMs ?? 2000;
  for (;;) {
    const view = await query();
    const terminal = isTerminal(view.status);
    const steps = terminal ? [] : await fromServer(ctx, client, 'description', () => liveSteps(client, handle)).catch(() => []);
    if (opts.json) {
      // One line per refresh; `live`: the running steps' progress (common/progress.ts).
      ctx.io.out(JSON.stringify(steps.length ? { ...view, live: steps } : view));
    } else {
      const frame = `${formatStatus(view, { workflowId, steps, evidence: await evidence(view) })}\n\n${terminal ? 'finished' : `refreshing every ${interval / 1000}s — Ctrl-C to stop`} (${new Date().toISOString()})`;
      ctx.io.out(ctx.io.isTTY ? `\x1b[2J\x1b[H${frame}` : `${frame}\n`);
    }
    if (terminal) {
      ctx.exitCode = view.status === 'completed' ? EXIT_OK : EXIT_FAILED;
      return;
    }
    await sleep(interval);
  }
}
