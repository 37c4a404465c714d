// `cutover erasure replay --target <alias> --since <time | backup object> [--as NAME] [--wait] [--json]`:
// after any restore of Production, start workflow cutoverErasureReplay (workflows/erasure-replay.ts),
// which re-applies every erasure and writes its own evidence pack. Refused here while a cutover run
// on the same target is open in Temporal (a run at a gate has written nothing to the database yet,
// so the worker's own check — cutover.run without finished_at — cannot see it).
import { ERASURE_REPLAY_WORKFLOW_TYPE, erasureReplayWorkflowId, reportQuery, TASK_QUEUE, WORKFLOW_TYPE } from '../../common/temporal';
import type { ErasureReplayRequest } from '../../common/temporal';
import type { ErasureReplayResult } from '../../common/results';
import { workflowUiLink } from '../connection';
import { badInput, EXIT_FAILED, failed } from '../errors';
import { resolveActor } from '../options';
import type { CommandContext } from './context';
import { fromServer, fromWorker, printJson } from './context';

export interface ErasureReplayOptions {
  target?: string;
  since?: string;
  as?: string;
  wait?: boolean;
  json?: boolean;
}

export async function erasureReplayCommand(ctx: CommandContext, opts: ErasureReplayOptions): Promise<void> {
  const target = opts.target ?? '';
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(target))
    throw badInput(`--target must be a connection alias like production (got ${JSON.stringify(opts.target ?? '')})`);
  const since = (opts.since ?? '').trim();
  if (!since) throw badInput("--since must name the restore point: a time (2026-11-20T10:00:00Z) or the restored backup object's location");
  const initiatedBy = resolveActor(opts.as, ctx.env);
  const client = await ctx.temporal.client();

  // Open cutover runs whose plan names this target: the replay would race their erasure steps and publish.
  const open: string[] = [];
  await fromServer(ctx, client, 'list', async () => {
    for await (const wf of client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'` }))
      open.push(wf.workflowId);
  });
  for (const id of open) {
    const pack = await fromWorker(ctx, client, 'report query', id, () => client.workflow.getHandle(id).query(reportQuery));
    if ((pack.plan as { target?: string } | null)?.target === target) {
      throw failed(`erasure replay refused: cutover run ${id} on target ${target} is open; let it finish (or abort it), then replay`);
    }
  }

  const workflowId = erasureReplayWorkflowId(target);
  const request: ErasureReplayRequest = { target, since, initiatedBy };
  let handle;
  try {
    handle = await fromServer(ctx, client, 'start', () =>
      client.workflow.start(ERASURE_REPLAY_WORKFLOW_TYPE, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [request],
        staticSummary: `erasure replay on ${target} since ${since}, initiated by ${initiatedBy}`,
      }),
    );
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')
      throw failed(`an erasure replay on target ${target} is already running (workflow id ${workflowId})`);
    throw err;
  }
  const ui = workflowUiLink(ctx.temporal.settings, workflowId);
  if (!opts.wait) {
    if (opts.json) printJson(ctx.io, { workflowId, runId: handle.firstExecutionRunId, ui });
    else ctx.io.out([`started ${workflowId}`, `run id: ${handle.firstExecutionRunId}`, `ui:     ${ui}`].join('\n'));
    return;
  }
  let result: ErasureReplayResult;
  try {
    result = (await handle.result()) as ErasureReplayResult;
  } catch (err) {
    // The activity's own failure (its type and message), under the workflow's and the activity's wrappers.
    let cause = (err as { cause?: Error & { type?: string; cause?: unknown } }).cause;
    while (cause && !cause.type && cause.cause) cause = cause.cause as typeof cause;
    ctx.io.err(`erasure replay failed: ${cause?.type ? `${cause.type}: ` : ''}${cause?.message ?? (err as Error).message}`);
    ctx.exitCode = EXIT_FAILED;
    return;
  }
  if (opts.json) printJson(ctx.io, result);
  else ctx.io.out(formatReplay(result));
}

export function formatReplay(r: ErasureReplayResult): string {
  const lines = [
    `erasure replay ${r.replayKey} on ${r.target} since ${r.since} (${r.sinceAt}, from a ${r.sinceFrom})`,
    ...r.runs.map(
      (x) =>
        `  run ${x.runKey} (plan ${x.planId}${x.runAbsent ? ', published after the restore point: nothing translated through it' : ''}): ${x.requests} request(s) in ${x.registers.join(', ')}, ${x.logged} erasure(s) logged after publish (${x.loggedSince} since the restore point); ${x.applied} applied now: ${
          Object.entries(x.rows)
            .map(([t, n]) => `${t} ${n}`)
            .join(', ') || 'no rows'
        }; residue ${x.residue}`,
    ),
    ...r.skipped.map((x) => `  skipped run ${x.runKey} (plan ${x.planId}): ${x.why}`),
    `residue ${r.residue}; evidence sha256 ${r.sha256 ?? '-'} in cutover.erasure_replay${r.location ? ` and ${r.location}` : ''}`,
  ];
  return lines.join('\n');
}
