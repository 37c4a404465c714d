// Workflow `cutoverRehearsal`: a run's rehearsal (plan rehearsal.mode: scratch), started by the
// run's rehearsal step as a child workflow (workflows/steps.ts), id `<run's id>/rehearsal/<n>`.
// It restores the run's verified target backup into a scratch database (rehearsalPrepare), runs
// the SAME step activities as the run (stage → cleanup → publish → validate → rollback) against it,
// each its own activity with the run's options — so retries, heartbeats, timeouts, cancellation and
// per-sub-step progress are Temporal's — then seals the report (rehearsalFinish). The scratch
// database is ALWAYS dropped (rehearsalDrop, in a non-cancellable scope: also on failure and when
// the run is cancelled). A failure closes the workflow with a RehearsalError carrying the report so
// far, which pauses the run's rehearsal step like an activity failure. Deterministic code only.
import { ApplicationFailure, CancellationScope, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import { takeAttempt } from '../common/attempts';
import { rehearsalAlias, rehearsalDatabase } from '../common/rehearsal-alias';
import type {
  RehearsalFailure,
  RehearsalFinishInput,
  RehearsalInput,
  RehearsalPrepared,
  RehearsalReport,
  StageResult,
  StepInput,
  ValidateResult,
} from '../common/results';
import { rehearsalProgressQuery, type RehearsalProgress } from '../common/temporal';
import { long, quick } from './steps';
import { describeFailure, failureDetails } from './step-runner';

/** The sub-steps in order, as the report's timings name them. */
export const REHEARSAL_STEPS = ['restore', 'stage', 'cleanup', 'publish', 'validate', 'rollback'] as const;

export async function cutoverRehearsal(input: RehearsalInput): Promise<RehearsalReport> {
  // Anyone who reaches Temporal can start a workflow: this one creates, writes and drops a database on
  // the target's server with no gate of its own, so it runs only as the child of the run it rehearses
  // (that run approved its plan), under the id that run gives it. Read from the start event: deterministic.
  const info = workflowInfo();
  if (
    info.parent?.workflowId !== input.workflowId ||
    !/^\d+$/.test(info.workflowId.slice(`${input.workflowId}/rehearsal/`.length)) ||
    !info.workflowId.startsWith(`${input.workflowId}/rehearsal/`)
  )
    throw ApplicationFailure.nonRetryable(
      `cutoverRehearsal runs only as the child of the run it rehearses (started by ${info.parent?.workflowId ?? 'no workflow'}, for ${JSON.stringify(input.workflowId)})`,
      'RehearsalRefused',
    );
  const { plan, runKey } = input;
  const database = rehearsalDatabase(runKey);
  const progress: RehearsalProgress = { phase: 'starting', database, steps: REHEARSAL_STEPS.map((step) => ({ step, state: 'waiting' })) };
  setHandler(rehearsalProgressQuery, () => progress);
  const target = input.backup?.backups?.find((b) => b.kind === 'target');
  const found: RehearsalFinishInput = {
    plan,
    ...(input.dryRun ? { dryRun: input.dryRun } : {}),
    prepared: null,
    database,
    runKey: `r${runKey}`,
    backup: target ? { location: target.location, sha256: target.sha256 } : null,
    startedAt: new Date().toISOString(),
    timings: [],
    cleanup: null,
    validation: null,
    rollback: null,
    failure: null,
  };
  // What the step activities see: the scratch database under a synthetic target alias any worker
  // resolves (no URL in a payload), the rehearsal's own run key, and whole-table checksums for the
  // rollback proof (the scratch database has no other writers). No identities: the alias is new.
  const sub = (): StepInput => ({
    plan: { ...plan, target: rehearsalAlias(plan.target, runKey), validation: { preExisting: 'full' as const } },
    runKey: `r${runKey}`,
    workflowId: input.workflowId,
    runId: input.runId,
  });
  /** One sub-step: its time (workflow clock), its state in the progress query, Temporal's attempt marker removed. */
  const timed = async <T>(step: (typeof REHEARSAL_STEPS)[number], fn: () => Promise<T>): Promise<T> => {
    const entry = progress.steps.find((x) => x.step === step)!;
    progress.phase = step;
    entry.state = 'running';
    const t0 = Date.now();
    try {
      const value = await fn();
      takeAttempt(value);
      entry.state = 'done';
      return value;
    } catch (err) {
      entry.state = 'failed';
      throw err;
    } finally {
      entry.ms = Date.now() - t0;
      found.timings.push({ step, ms: entry.ms });
    }
  };
  let cancelled: unknown = null;
  try {
    found.prepared = (await timed('restore', () => long.rehearsalPrepare(input))) as RehearsalPrepared;
    const staged = (await timed('stage', () =>
      long.stage({ ...sub(), ...(input.expectedRows ? { expectedRows: input.expectedRows } : {}) }),
    )) as StageResult;
    found.cleanup = (await timed('cleanup', () => long.cleanup(sub()))).leftBehind;
    const published = await timed('publish', () => long.publish(sub()));
    found.validation = await timed('validate', () =>
      long.validate({ ...sub(), publish: published, stage: staged }).catch((e) => {
        const partial = failureDetails(e) as ValidateResult | undefined;
        if (partial?.tables) found.validation = partial;
        throw e;
      }),
    );
    found.rollback = await timed('rollback', () => long.rollback({ ...sub(), publish: published }));
  } catch (err) {
    if (isCancellation(err)) cancelled = err;
    else found.failure = failureOf(progress.phase, err);
  } finally {
    // Whatever happened (also a cancelled run): the scratch database goes, and only then the report.
    await CancellationScope.nonCancellable(() => quick.rehearsalDrop({ plan, runKey }));
  }
  if (cancelled) {
    // Cancelled (the run was): the workflow closes cancelled, the scratch database dropped first.
    progress.phase = 'cancelled';
    throw cancelled;
  }
  const report = await quick.rehearsalFinish(found);
  takeAttempt(report);
  progress.phase = report.ok ? 'done' : 'failed';
  if (report.ok) return report;
  const f = report.failed!;
  throw ApplicationFailure.create({
    type: 'RehearsalError',
    message:
      f.type === 'RehearsalError' ? f.message : `rehearsal failed at ${f.step} (${f.type}); production was not touched: ${f.message}`,
    nonRetryable: true,
    details: [report],
  });
}

/** A sub-step's failure as the report keeps it: its type, its (worker-redacted) message, a database error's words. */
function failureOf(step: string, err: unknown): RehearsalFailure {
  const d = describeFailure(step, err);
  const details = failureDetails(err) ?? serverWords(err);
  return { step, type: d.type, message: d.message, ...(details !== undefined ? { details } : {}) };
}

/** A database failure's first detail (failureDetails leaves those out of results; the report reduces them). */
function serverWords(err: unknown): unknown {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
}
