// `cutover plan check|schema|hash|input`: offline plan validation (and the preflight dry run with --connect),
// and the Start Workflow form's input for starting a run from the Temporal Web UI.
import { TASK_QUEUE, WORKFLOW_TYPE, workflowIdFor, type WorkflowInput } from '../../common/temporal';
import { predictsRefusal } from '../../common/conflicts';
import type { DryRunReport, TableDryRun } from '../../common/results';
import { planIssuesOf } from '../../common/plan-failure';
import { accessSqlIssues, loadSqlParser } from '../../plan/access-sql';
import { PlanError } from '../../plan/issues';
import { mappingSqlIssues } from '../../plan/mapping-sql';
import { loadPlanFile } from '../../plan/load';
import { planHash } from '../../plan/canonical';
import { planJsonSchema } from '../../plan/json-schema';
import type { Plan } from '../../plan/schema';
import { badInput, EXIT_FAILED, failed, planFileError } from '../errors';
import { formatDryRun } from '../format/dryrun';
import { formatPlanSummary, startSummary } from '../format/plan';
import { resolveActor } from '../options';
import type { CommandContext } from './context';
import { printJson } from './context';

/**
 * Load and validate a plan file; any problem is bad input (exit 2) naming file, line and path.
 * Access checks' SQL and mapping expressions are parsed too (PostgreSQL's parser): one that could
 * write, escape or read beyond its row is refused here.
 */
export async function loadPlan(file: string): Promise<Plan> {
  await loadSqlParser();
  try {
    return loadPlanFile(file, (p) => [...accessSqlIssues(p), ...mappingSqlIssues(p)]);
  } catch (err) {
    throw planFileError(file, err);
  }
}

/** Failure types of preflight that mean "the plan (or its configuration) is wrong", not "something broke". */
const BAD_INPUT_FAILURES = new Set(['PlanError', 'ConfigError']);

export function preflightError(file: string, err: unknown): Error {
  if (!(err instanceof Error)) return failed(`dry run failed: ${String(err)}`);
  // The catalogs' refusal of the plan reads like the plan file's own (common/plan-failure.ts).
  const issues = planIssuesOf(err);
  if (issues) return planFileError(file, new PlanError(issues));
  const type = (err as { type?: unknown }).type;
  if (typeof type === 'string' && BAD_INPUT_FAILURES.has(type)) {
    return badInput(`${file}: ${err.message}`, [`${file}: ${type}: ${err.message}`]);
  }
  if (Array.isArray((err as { issues?: unknown }).issues)) return planFileError(file, err);
  return failed(`dry run failed: ${err.message}`);
}

export interface PlanCheckOptions {
  connect?: boolean;
  json?: boolean;
}

export async function planCheck(ctx: CommandContext, file: string, opts: PlanCheckOptions): Promise<void> {
  const plan = await loadPlan(file);
  const hash = planHash(plan);
  const tables = plan.tables.map((t) => t.table);
  let dryRun: DryRunReport | undefined;
  if (opts.connect) {
    const { preflight } = await import('../../activities/preflight');
    try {
      dryRun = await preflight({ plan, runKey: 'dryrun', workflowId: workflowIdFor(plan.id), runId: 'dryrun' });
    } catch (err) {
      throw preflightError(file, err);
    }
  }
  // A dry run that predicts a refusal (keys production already holds) is not "ok": publish would stop there.
  const conflicts = (dryRun?.tables ?? []).filter(predictsRefusal);
  const ok = conflicts.length === 0;
  if (!ok) ctx.exitCode = EXIT_FAILED;
  if (opts.json) {
    printJson(ctx.io, { ok, file, id: plan.id, strategy: plan.strategy, hash, tables, ...(dryRun ? { dryRun } : {}) });
    return;
  }
  ctx.io.out(formatPlanSummary(plan, hash, file));
  if (dryRun) ctx.io.out(`\n${formatDryRun(dryRun)}`);
  const why = (t: TableDryRun) => [
    ...(t.collisions > 0 ? [`${t.table} has ${t.collisions} key(s) production already holds`] : []),
    ...(t.conflicts ?? [])
      .filter((c) => c.kind !== 'primary key' || t.collisions === 0)
      .map(
        (c) =>
          `${t.table} breaks ${c.kind} ${c.constraint} (${c.columns}): ${c.existing} row(s) production already holds, ${c.duplicates} duplicate(s) among the rows to insert`,
      ),
  ];
  ctx.io.out(ok ? 'ok' : `refused ahead of time: ${conflicts.flatMap(why).join('; ')}`);
}

export function planSchema(ctx: CommandContext): void {
  printJson(ctx.io, planJsonSchema());
}

export async function planHashCommand(ctx: CommandContext, file: string): Promise<void> {
  ctx.io.out(planHash(await loadPlan(file)));
}

export interface PlanInputOptions {
  as?: string;
}

/**
 * `plan input <plan> --as NAME`: the exact input of the Temporal UI's *Start Workflow* form — the
 * validated plan as the workflow accepts it (what `start` sends) — alone on stdout, so it can be
 * piped or pasted whole; the form's other fields on stderr.
 */
export async function planInput(ctx: CommandContext, file: string, opts: PlanInputOptions): Promise<void> {
  const plan = await loadPlan(file);
  const initiatedBy = resolveActor(opts.as, ctx.env);
  const input: WorkflowInput = { plan, initiatedBy };
  printJson(ctx.io, input);
  ctx.io.err(
    [
      'Temporal Web UI → Start Workflow:',
      `  Workflow ID:    ${workflowIdFor(plan.id)}   (any other id is refused: one run per plan)`,
      `  Task Queue:     ${TASK_QUEUE}`,
      `  Workflow Type:  ${WORKFLOW_TYPE}`,
      '  Input:          the JSON above (encoding json/plain)',
      `  Summary:        ${startSummary(plan, initiatedBy)}   (optional; the run shows it in its details anyway)`,
      `plan hash ${planHash(plan)}`,
    ].join('\n'),
  );
}
