// The step table. A strategy is an ordered list of steps, each {name, run, skippable, undo?}; the
// workflow body is one loop over it (workflows/migration.ts). A compensation is declared next to
// the step it undoes (publish → rollback, saga-style). Each step's result lands in one map keyed
// by step name (RunState.results), from which status, evidence and reports are derived.
//
// Entries are typed by step name (StepOf<N>: run, after and detail take StepResults[N]).
//
// Adding a step: a step module (common/steps/<name>.ts, defineStep<'name'>) and its line in
// common/steps/index.ts put it into its strategy here (withModules), right before the step it names;
// its activity is activities/<name>.ts. Nothing to list here. A change to what the table runs for an
// existing run follows the patching rule (docs/architecture.md, "Changing workflow code"): recorded
// histories must replay unchanged.
import { executeChild, ParentClosePolicy, proxyActivities } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { CutoverActivities } from '../common/activities';
import { NON_RETRYABLE } from '../common/failures';
import type { FinalizeResult, StepInput, StepResults } from '../common/results';
import type { AnyStepModule, ResultOf, StepKey } from '../common/step-module';
import { STEP_MODULES } from '../common/steps';
import { REHEARSAL_WORKFLOW_TYPE, type EvidencePack, type GateName } from '../common/temporal';
import { rehearsalChildId } from '../common/rehearsal-alias';
import type { RehearsalInput, RehearsalReport } from '../common/results';
import { compareWithApproved, DriftDetected } from './drift';
import { now, type RunState } from './state';
import { failureDetails, failureType, runStep, type StepControl } from './step-runner';

const retry: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 3,
  nonRetryableErrorTypes: [...NON_RETRYABLE],
};
export const quick = proxyActivities<CutoverActivities>({ startToCloseTimeout: '10 minutes', retry });
// Data steps heartbeat (progress, or a keep-alive while one statement runs): a dead worker shows within 2 minutes.
// The worker sends heartbeat details every 5 s (worker/run.ts HEARTBEAT_THROTTLE): live progress, not this timeout.
export const long = proxyActivities<CutoverActivities>({ startToCloseTimeout: '12 hours', heartbeatTimeout: '2 minutes', retry });

/** What a step's code sees: the run's state, its controls and the input every activity takes. */
export interface StepEnv {
  s: RunState;
  ctl: StepControl;
  input: StepInput;
}

export type StepName = StepKey;

/** What every entry of the table may declare, whatever its name. */
interface StepBase {
  /** An approval gate: the loop waits for it instead of running anything. */
  gate?: GateName;
  /** The step is not part of this run at all (nothing recorded, not even a skip): e.g. a step only some plans have. */
  omit?: (e: StepEnv) => boolean;
  /** Why this step does not apply to this run (recorded as skipped), or null when it runs. */
  notApplicable?: (e: StepEnv) => string | null;
  skippable?: boolean;
  /** On-call may re-run from this step (roll-forward --from): it is safe to run again. */
  rerunnable?: boolean;
  /** A failure whose details carry a partial result (validation, access checks) keeps it as the step's result. */
  keepsFailureDetails?: boolean;
  /** The compensation: undoes this step's effect (saga). */
  undo?: { name: StepKey; run: (e: StepEnv) => Promise<unknown> };
}

/** A step typed by its name: what it runs, what the run learns from it and its history note all take StepResults[name]. */
export interface StepOf<N extends StepName> extends StepBase {
  name: N;
  run?: (e: StepEnv) => Promise<ResultOf<N>>;
  /** What the run learns from the result beyond storing it (progress, …). */
  after?: (e: StepEnv, value: ResultOf<N>) => void;
  /** Note for the step history on completion. */
  detail?: (value: ResultOf<N>) => string | undefined;
}

/** An approval gate: no result of its own. */
export interface GateStep extends StepBase {
  name: `gate:${GateName}`;
  gate: GateName;
  run?: undefined;
  after?: undefined;
  detail?: undefined;
}

/** An entry of the table: a step, by name, or a gate. */
export type Step = { [N in StepName]: StepOf<N> }[StepName] | GateStep;

/**
 * A step module's (common/steps/) entry in its strategy's table: its activity with the run's input,
 * absent from runs whose plan has no use for it (omit: no command, so recorded histories replay).
 */
function moduleStep(m: AnyStepModule): Step {
  const proxy = (m.long ? long : quick) as unknown as Record<string, (input: StepInput) => Promise<never>>;
  return {
    name: m.name as 'notices',
    omit: (e) => !m.inPlan(e.s.plan),
    ...(m.notApplicable ? { notApplicable: (e: StepEnv) => m.notApplicable!(e.s.plan, e.s.results) } : {}),
    run: (e) => proxy[m.activity](m.input ? { ...e.input, ...m.input(e.s.plan, e.s.results) } : e.input),
    skippable: m.skippable,
    ...(m.keepsFailureDetails ? { keepsFailureDetails: true } : {}),
    ...(m.detail ? { detail: m.detail } : {}),
    ...(m.undo ? { undo: { name: m.undo.name, run: (e: StepEnv) => proxy[m.undo!.activity](e.input) } } : {}),
  };
}

/**
 * A strategy's steps with the step modules that run in it, each right before the step it names (a
 * module may name another module: erasure runs before erasure-final). Modules before the same step
 * keep the table's order.
 */
function withModules(strategy: string, steps: Step[]): Step[] {
  const out = [...steps];
  let todo = STEP_MODULES.filter((x) => x.runs.strategy === strategy);
  while (todo.length) {
    const ready = todo.filter((m) => out.some((x) => x.name === m.runs.before));
    if (!ready.length) throw new Error(`step module ${todo[0].name}: no step ${todo[0].runs.before} in strategy ${strategy}`);
    for (const m of ready)
      out.splice(
        out.findIndex((x) => x.name === m.runs.before),
        0,
        moduleStep(m),
      );
    todo = todo.filter((m) => !ready.includes(m));
  }
  return out;
}

/** The step history's note on a written evidence pack: where it went and the sha256 of its bytes. */
export function evidenceNote(r: FinalizeResult): string | undefined {
  if (!r?.sha256) return undefined;
  const where = [r.evidenceRows ? 'cutover.evidence' : null, r.location ?? null].filter((x) => x !== null);
  return `evidence pack sha256 ${r.sha256}${where.length ? ` in ${where.join(' and ')}` : ' (nowhere to write it)'}`;
}

/** The evidence pack as it stands, closed with the given status. */
export function packFor(s: RunState, status: EvidencePack['status']): EvidencePack {
  return { ...s.evidence(), status, finishedAt: now() };
}

/**
 * Rows stage will copy per table, for its progress: its own total, the rows in scope (the approved
 * dry run's inScope, or what the first stage copied), never the rows to move nor the rows published
 * (the run's progress record after publish). Only the activity's input changes (not the commands):
 * histories replay.
 */
function expectedStageRows(e: StepEnv): Record<string, number> {
  const dry = e.s.results.preflight?.tables;
  if (dry) return Object.fromEntries(dry.map((t) => [t.table, t.inScope]));
  const staged = e.s.results.stage?.tables;
  if (staged) return Object.fromEntries(staged.map((t) => [t.table, t.rows]));
  return Object.fromEntries(Object.values(e.s.progress).map((p) => [p.table, p.rowsTotal]));
}

function stageNow(e: StepEnv): Promise<ResultOf<'stage'>> {
  return long.stage({ ...e.input, expectedRows: expectedStageRows(e) });
}

function afterStage(e: StepEnv, value: NonNullable<StepResults['stage']>): void {
  for (const t of value.tables) e.s.progress[t.table] = { table: t.table, rowsCopied: t.rows, rowsTotal: t.rows, phase: 'staged' };
}

/**
 * The run moves what was approved: before publish, what stage (keys in scope, catalogs) and cleanup
 * (keys kept) found is compared with the approved dry run. A difference within the plan's
 * drift.tolerate is recorded; any other throws DriftDetected, and the loop goes back to preflight
 * and gate plan (workflows/migration.ts). Dry runs from before digests compare nothing.
 */
function checkDrift(e: StepEnv, at: 'stage' | 'cleanup', found: Parameters<typeof compareWithApproved>[2]): void {
  if (e.s.results.publish) return; // a roll-forward after publish: what moved is what moved
  const d = compareWithApproved(at, e.s.results.preflight, found, e.s.plan.drift?.tolerate.rows);
  if (!d) return;
  d.foundAt = now();
  e.s.drift.push(d);
  if (!d.tolerated) throw new DriftDetected(d);
}

/**
 * Steps that read staging: when it is gone (a reset to after stage of a finished run, a manual
 * drop), stage again (and clean again) and repeat the step; the publish guard keeps production
 * written once.
 */
function onStaging<T>(fn: (e: StepEnv) => Promise<T>) {
  return async (e: StepEnv): Promise<T> => {
    try {
      return await fn(e);
    } catch (err) {
      if (failureType(err) !== 'StagingLost') throw err;
      e.s.record(e.s.phase, 'retried', `${(err as { cause: Error }).cause.message}; staging again from a new Pilot snapshot`);
      const staged = await runStep(e.ctl, 'stage', () => stageNow(e) as Promise<NonNullable<StepResults['stage']>>, {
        detail: (v) => v.restaged ?? undefined,
      });
      if (!staged.skipped) {
        e.s.results.stage = staged.value;
        afterStage(e, staged.value);
      }
      if (e.s.results.stage && e.s.results.cleanup) e.s.results.cleanup = (await long.cleanup(e.input)) ?? e.s.results.cleanup;
      return await fn(e);
    }
  };
}

/**
 * Before a failed rehearsal runs again: a fresh backup of the target (only: the Pilot's stands),
 * through the step-runner as step `backup` (it pauses and retries like any step). Its objects are
 * new ones beside the first backup's (never overwritten); both stay in the run's backups, the fresh
 * target first, so the rehearsal restores it and a rollback by restore returns Production to how it
 * was just before publish (after the fix), while the first remains the evidence of before the fix.
 */
async function freshTargetBackup(e: StepEnv): Promise<void> {
  const note =
    'taken again before the failed rehearsal was retried (Production may have been fixed since the first backup, which stays recorded)';
  const out = await runStep(e.ctl, 'backup', () => long.backup({ ...e.input, planHash: e.s.planHash, only: 'target', note }), {
    detail: (v) =>
      `fresh target backup ${v.backups.map((b) => b.location).join(', ')} for the rehearsal's retry; the first backup stays recorded`,
  });
  if (out.skipped) return;
  const first = e.s.results.backup!;
  e.s.results.backup = { ...first, backups: [...out.value.backups, ...first.backups] };
}

/**
 * The rehearsal runs as its own workflow (workflows/rehearsal.ts), a child of this run: one per
 * attempt, id `<workflow id>/rehearsal/<n>` (n: the rehearsal's starts so far, this one included,
 * so a retry after a pause starts a new child). Its failure pauses the step like an activity's; a
 * cancelled (or terminated) run cancels it (REQUEST_CANCEL), and it drops its scratch database.
 */
async function rehearseInChild(e: StepEnv, input: RehearsalInput): Promise<RehearsalReport> {
  const n = e.s.steps.filter((x) => x.step === 'rehearsal' && x.outcome === 'started').length;
  const workflowId = rehearsalChildId(e.input.workflowId, n);
  e.s.child = workflowId;
  e.ctl.publish();
  try {
    return await executeChild<(i: RehearsalInput) => Promise<RehearsalReport>>(REHEARSAL_WORKFLOW_TYPE, {
      workflowId,
      args: [input],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
  } finally {
    e.s.child = null;
  }
}

/** The selective path: preflight, gates, safety net, stage → publish → validate, checks, finalize. */
export const SELECTIVE: Step[] = [
  {
    name: 'preflight',
    run: (e) => long.preflight(e.input),
    after: (e, dry: NonNullable<StepResults['preflight']>) => {
      for (const t of dry.tables) e.s.progress[t.table] = { table: t.table, rowsCopied: 0, rowsTotal: t.toMove, phase: 'planned' };
    },
  },
  { name: 'gate:plan', gate: 'plan' },
  {
    name: 'backup',
    notApplicable: (e) => (e.s.plan.backup ? null : 'no backup store in the plan'),
    // Before anything is written to production; the run pauses on a backup that does not verify.
    run: (e) => long.backup({ ...e.input, planHash: e.s.planHash }),
  },
  {
    name: 'rehearsal',
    notApplicable: (e) => (e.s.plan.rehearsal?.mode === 'scratch' ? null : `rehearsal mode ${e.s.plan.rehearsal?.mode ?? 'skip'}`),
    // The whole data path in a scratch database restored from the target backup; production untouched.
    // The plan check refuses scratch without backup; a missing backup result is a RehearsalError in the activity.
    run: async (e) => {
      const expectedRows = expectedStageRows(e);
      // A retry after a failed rehearsal (on-call fixed Production) rehearses Production as it is now.
      if (e.s.results.backup && e.s.steps.some((x) => x.step === 'rehearsal' && x.outcome === 'failed')) await freshTargetBackup(e);
      const dryRun = e.s.results.preflight?.tables.map((t) => ({
        table: t.table,
        inScope: t.inScope,
        toMove: t.toMove,
        merged: t.merged,
        leftBehind: t.leftBehind,
      }));
      return rehearseInChild(e, { ...e.input, backup: e.s.results.backup!, expectedRows, ...(dryRun ? { dryRun } : {}) });
    },
    keepsFailureDetails: true,
    detail: (v: NonNullable<StepResults['rehearsal']>) =>
      `rehearsal ${v.rehearsalHash}: rollback proven, scratch database ${v.database} dropped`,
  },
  { name: 'gate:cutover', gate: 'cutover' },
  {
    name: 'stage',
    run: stageNow,
    after: (e, v: NonNullable<StepResults['stage']>) => {
      afterStage(e, v);
      checkDrift(e, 'stage', { keys: v.digests, catalog: v.catalog, rows: v.dryRunStaging?.rows });
    },
    rerunnable: true,
    detail: (v: NonNullable<StepResults['stage']>) => v.restaged ?? undefined,
  },
  {
    name: 'cleanup',
    run: onStaging((e) => long.cleanup(e.input)),
    after: (e, v: NonNullable<StepResults['cleanup']>) => checkDrift(e, 'cleanup', { keys: v.kept }),
    rerunnable: true,
  },
  {
    name: 'publish',
    run: onStaging((e) => long.publish(e.input)),
    // Each table's own count from here: rows published of the rows it had to publish (not the staged scope).
    after: (e, v: NonNullable<StepResults['publish']>) => {
      for (const t of v.tables)
        e.s.progress[t.table] = { table: t.table, rowsCopied: t.inserted, rowsTotal: t.inserted, phase: 'published' };
    },
    rerunnable: true,
    undo: { name: 'rollback', run: (e) => long.rollback({ ...e.input, publish: e.s.results.publish! }) },
  },
  {
    name: 'validate',
    run: onStaging((e) => long.validate({ ...e.input, publish: e.s.results.publish ?? { tables: [] }, stage: e.s.results.stage! })),
    rerunnable: true,
    keepsFailureDetails: true,
  },
  {
    name: 'access-checks',
    // The built-in checks run in every run, with the plan's own checks when it has some.
    run: (e) => {
      const before = e.s.results.publish?.accessBefore;
      if (!before) return Promise.resolve({ ok: true, checks: [] }); // publish was skipped: nothing was written
      return long.accessChecks({ ...e.input, before });
    },
    rerunnable: true,
    keepsFailureDetails: true,
  },
  // erasure, erasure-final (and notices): step modules (common/steps/), put here before finalize.
  {
    name: 'finalize',
    run: (e) => quick.finalize({ ...e.input, pack: packFor(e.s, 'completed'), status: 'completed' }),
    skippable: true,
    detail: evidenceNote,
  },
];

/**
 * clean-start: nothing moves. The dry run is the Pilot's inventory; after gate plan the whole Pilot
 * is archived (a verified backup); after gate cutover it is optionally set read-only, undone by a
 * rollback. Production is not written to, not even the control schema.
 */
export const CLEAN_START: Step[] = [
  { name: 'preflight', run: (e) => long.preflight(e.input) },
  { name: 'gate:plan', gate: 'plan' },
  { name: 'backup', run: (e) => long.backup({ ...e.input, planHash: e.s.planHash }) },
  { name: 'gate:cutover', gate: 'cutover' },
  // decommission: a step module (common/steps/decommission.ts), put here before finalize.
  {
    name: 'finalize',
    run: (e) => quick.finalize({ ...e.input, pack: packFor(e.s, 'completed'), status: 'completed' }),
    skippable: true,
  },
];

/**
 * adopt: the Pilot becomes Production in place (db/context.ts: every step's "target" is the Pilot;
 * Production is never opened). The dry run counts what the cleanup removes (what gate plan shows);
 * the Pilot's plan tables are backed up; nothing destructive happens before the last gate: after
 * gate cutover the cleanup removes test data, erased and non-consenting subjects and their
 * dependents from the Pilot in one proven transaction (undo: restore them from the backup, erasures
 * re-applied), the access checks run against the Pilot, and the adoption is recorded with adoptFrom.
 */
const adoptCleanup: Step = {
  name: 'adopt-cleanup',
  run: (e) => long.adoptCleanup(e.input),
  detail: (v: NonNullable<StepResults['adopt-cleanup']>) =>
    `${v.manifestRows} row(s) removed from ${v.database}, each in cutover.manifest; ${v.erasureLog} erased subject(s) logged`,
  undo: {
    name: 'adopt-restore',
    run: (e) => long.adoptRestore({ ...e.input, backup: e.s.results.backup!.backups.find((b) => b.kind === 'source')! }),
  },
};
const adoptAccessChecks: Step = {
  name: 'access-checks',
  run: (e) => long.accessChecks({ ...e.input, before: e.s.results['adopt-cleanup']!.accessBefore }),
  rerunnable: true,
  keepsFailureDetails: true,
};
const adoptTail: Step[] = [
  {
    name: 'adopt',
    run: (e) => quick.adopt(e.input),
    detail: (v: NonNullable<StepResults['adopt']>) => `adopted: ${v.database} is Production from ${v.adoptFrom}`,
  },
  {
    name: 'finalize',
    run: (e) => quick.finalize({ ...e.input, pack: packFor(e.s, 'completed'), status: 'completed' }),
    skippable: true,
    detail: evidenceNote,
  },
];
export const ADOPT: Step[] = [
  { name: 'preflight', run: (e) => long.preflight(e.input) },
  { name: 'gate:plan', gate: 'plan' },
  { name: 'backup', run: (e) => long.backup({ ...e.input, planHash: e.s.planHash }) },
  { name: 'gate:cutover', gate: 'cutover' },
  adoptCleanup,
  adoptAccessChecks,
  ...adoptTail,
];

/** A strategy is a list of steps. */
export const STRATEGIES: Record<string, Step[]> = {
  selective: withModules('selective', SELECTIVE),
  'clean-start': withModules('clean-start', CLEAN_START),
  adopt: withModules('adopt', ADOPT),
};

/**
 * Every activity after preflight gets the databases preflight reached and checks its aliases still
 * reach them (activities/db/alias-identity.ts): a worker configured for other databases refuses and
 * the run pauses instead of splitting.
 */
export function carryIdentities(e: StepEnv, dry: StepResults['preflight']): void {
  if (!dry?.identities) return;
  // A database on-call accepted as moved is checked as it is now, not as preflight saw it.
  const moved = Object.fromEntries(e.s.databaseMoves.map((m) => [m.alias, m.to]));
  e.input = { ...e.input, identities: { ...dry.identities, ...moved } };
}

/** Run one step through the step-runner, storing its result (or the partial result a failure carries). */
export async function runTableStep(e: StepEnv, step: Step): Promise<void> {
  const results = e.s.results as Record<string, unknown>;
  const out = await runStep(
    e.ctl,
    step.name,
    async () => {
      try {
        return await step.run!(e);
      } catch (err) {
        if (step.keepsFailureDetails) results[step.name] = failureDetails(err) ?? results[step.name];
        throw err;
      }
    },
    { skippable: step.skippable, detail: step.detail as ((v: unknown) => string | undefined) | undefined },
  );
  if (out.skipped) return;
  results[step.name] = out.value;
  if (step.name === 'preflight') carryIdentities(e, out.value as StepResults['preflight']);
  if (step.undo && !e.s.undoable.includes(step.name)) e.s.undoable.push(step.name);
  step.after?.(e, out.value as never);
}
