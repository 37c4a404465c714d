// `cutover gc <plan> [--apply] [--min-age D] [--json]`: what killed attempts left behind for this
// plan, named (scratch databases, staging schemas of runs that are over, partial dumps, objects
// without sidecar, S3 multipart uploads) and, with --apply, removed (activities/gc.ts). It runs in
// this process with the worker's environment: the plan's aliases (CUTOVER_DB_<ALIAS> or
// CUTOVER_SECRETS_DIR) and the store's AWS_* variables — run it where the worker runs, or with the
// same variables. Temporal is asked only whether the plan's workflow is open (its unfinished runs
// keep their staging); when Temporal cannot be reached, they are kept too.
import { parseDuration } from '../../plan/duration';
import { workflowIdFor } from '../../common/temporal';
import { badInput } from '../errors';
import type { GcReport } from '../../activities/gc';
import type { CommandContext } from './context';
import { fromServer, printJson } from './context';
import { loadPlan } from './plan';

export interface GcCommandOptions {
  apply?: boolean;
  minAge?: string;
  json?: boolean;
}

export async function gcCommand(ctx: CommandContext, file: string, opts: GcCommandOptions): Promise<void> {
  const plan = await loadPlan(file);
  let minAgeMs: number;
  try {
    minAgeMs = opts.minAge === undefined ? 3_600_000 : opts.minAge === '0' ? 0 : parseDuration(opts.minAge);
  } catch (e) {
    throw badInput(`--min-age: ${(e as Error).message}`);
  }
  let workflowOpen = true;
  let note = '';
  try {
    const client = await ctx.temporal.client();
    const d = await fromServer(ctx, client, 'description', () => client.workflow.getHandle(workflowIdFor(plan.id)).describe());
    workflowOpen = d.status.name === 'RUNNING';
  } catch (e) {
    if ((e as { name?: string }).name === 'WorkflowNotFoundError') workflowOpen = false;
    else note = `Temporal not reachable (${(e as Error).message.split('\n')[0]}): the staging of this plan's unfinished runs is kept`;
  }
  const { gc } = await import('../../activities/gc');
  const report = await gc(plan, { apply: opts.apply === true, minAgeMs, workflowOpen });
  if (opts.json) {
    printJson(ctx.io, { ...report, workflowOpen, ...(note ? { note } : {}) });
    return;
  }
  ctx.io.out(formatGc(report, plan.id, note));
}

export function formatGc(r: GcReport, planId: string, note: string): string {
  const out: string[] = [`left behind for plan ${planId}${r.apply ? '' : ' (listing only: --apply removes what is marked "remove")'}:`];
  const mark = (removable: boolean) => (removable ? 'remove' : 'keep  ');
  out.push('scratch databases:');
  for (const d of r.databases) out.push(`  ${mark(d.removable)} ${d.database} on the server of ${d.server} (${d.bytes} bytes): ${d.why}`);
  if (r.databases.length === 0) out.push('  none');
  out.push('staging schemas:');
  for (const s of r.staging) out.push(`  ${mark(s.removable)} ${s.schema} in ${s.database}: ${s.why}`);
  if (r.staging.length === 0) out.push('  none');
  out.push('backup store:');
  for (const i of r.store) {
    const what =
      i.kind === 'upload'
        ? `multipart upload ${i.uploadId} of ${i.location}`
        : `${i.kind === 'partial' ? 'partial file' : 'object without sidecar'} ${i.location}${i.size !== undefined ? ` (${i.size} bytes)` : ''}`;
    out.push(`  ${mark(i.removable)} ${what}, since ${i.since}: ${i.why}`);
  }
  if (r.store.length === 0) out.push('  none');
  if (note) out.push(note);
  if (r.apply) {
    out.push(`removed ${r.removed.length}:`, ...r.removed.map((x) => `  ${x}`));
    if (r.failed.length) out.push(`could not remove ${r.failed.length}:`, ...r.failed.map((x) => `  ${x}`));
  }
  return out.join('\n');
}
