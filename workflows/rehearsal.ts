// Workflow `cutoverRehearsal`: the rehearsal step (plan rehearsal.mode: scratch), run as a child of
// the cutover run. The run's verified target backup is restored into a scratch database on the
// target's server (rehearsalRestore), and the same step activities as the run's — stage, cleanup,
// publish, validate, then the surgical rollback — run there, each an activity of this workflow with
// its own retries, heartbeats and progress, pointed at the scratch database by a synthetic target
// alias (StepInput.scratch) and under the rehearsal's own run key r<runKey>, so its staging and
// guards never meet the real run's. The rollback's per-table checksums must equal the ones publish
// took before inserting. The report (common/rehearsal-report.ts) carries its own sha256. The
// scratch database is dropped at the end: on success, failure and cancellation. Any failure is a
// RehearsalError carrying the report so far.
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { RehearsalInput, RehearsalReport, StepInput, ValidateResult } from '../common/results';
import { compareRehearsal, recordRollback, recordValidation, rehearsalDatabase, sealReport, type RehearsalDraft } from '../common/rehearsal-report';
import { direct } from './proxies';

const rehearsalError = (message: string, report?: RehearsalReport) => ApplicationFailure.create({ type: 'RehearsalError', message, nonRetryable: true, details: report ? [report] : undefined });

export async function cutoverRehearsal(input: RehearsalInput): Promise<RehearsalReport> {
  if (!workflowInfo().parent) throw ApplicationFailure.nonRetryable('cutoverRehearsal runs only as a child of a cutover run', 'PlanError');
  const { plan, runKey } = input;
  const target = input.backup?.backups?.find((b) => b.kind === 'target');
  if (!target) throw rehearsalError('rehearsal: the run has no verified target backup to restore (the backup step must run first)');
  const draft: RehearsalDraft = {
    ok: false,
    database: rehearsalDatabase(runKey),
    runKey: `r${runKey}`,
    backup: { location: target.location, sha256: target.sha256 },
    startedAt: new Date().toISOString(),
    finishedAt: '',
    tables: [],
    cleanup: null,
    validation: null,
    rollback: null,
    timings: [],
    failed: null,
    parentsCopied: [],
  };
  // validation.preExisting full: the rehearsal proves its rollback by whole-table checksums (the
  // scratch database has no other writers, and its size is the backup's, read once by the restore anyway).
  const sub: StepInput = {
    plan: { ...plan, target: `rehearsal-${runKey}`, validation: { preExisting: 'full' } },
    runKey: draft.runKey,
    workflowId: input.workflowId,
    runId: input.runId,
    scratch: { of: plan.target, database: draft.database },
  };
  let phase = 'starting';
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    phase = step;
    const t0 = Date.now(); // workflow time: deterministic, to the workflow task
    try {
      return await fn();
    } finally {
      draft.timings.push({ step, ms: Date.now() - t0 });
    }
  };
  let failed = false;
  try {
    const scratch = await timed('restore', () => direct.rehearsalRestore(input));
    draft.parentsCopied = scratch.parentsCopied;
    if (scratch.registersCopied) draft.registersCopied = scratch.registersCopied;
    const staged = await timed('stage', () => direct.stage({ ...sub, expectedRows: input.expectedRows }));
    draft.cleanup = (await timed('cleanup', () => direct.cleanup(sub))).leftBehind;
    const published = await timed('publish', () => direct.publish(sub));
    const validated = await timed('validate', () =>
      direct.validate({ ...sub, publish: published, stage: staged }).catch((e) => {
        const partial = failureOf(e)?.details?.[0] as ValidateResult | undefined;
        if (partial?.tables) recordValidation(draft, partial);
        throw e;
      }),
    );
    recordValidation(draft, validated);
    recordRollback(draft, await timed('rollback', () => direct.rollback({ ...sub, publish: published })));
    if (!draft.rollback?.proven) {
      const differ = draft.rollback?.tables.filter((t) => !t.equal).map((t) => t.table) ?? [];
      throw rehearsalError(`rehearsal: the rollback did not bring the scratch database back to its contents before publish (${differ.join(', ')})`);
    }
    draft.ok = true;
  } catch (caught) {
    failed = true;
    if (isCancellation(caught)) throw caught;
    const cause = failureOf(caught);
    const type = cause?.type ?? (caught as Error).name ?? 'Error';
    // The activity's failure message: row values already withheld by the activity interceptor.
    const message = cause?.message ?? (caught as Error).message ?? String(caught);
    const words = (cause?.details?.[0] as { words?: Record<string, string> } | undefined)?.words;
    draft.failed = { step: phase, type, message, ...(words ? { database: words } : {}) };
  } finally {
    // Also when cancelled; a failed drop must not hide why the rehearsal failed.
    await CancellationScope.nonCancellable(() => direct.rehearsalDrop({ plan, runKey })).catch((e) => {
      if (!failed) throw e;
    });
  }
  draft.finishedAt = new Date().toISOString();
  compareRehearsal(draft, input);
  const report = sealReport(draft);
  if (draft.ok) return report;
  const { type, message } = draft.failed!;
  throw type === 'RehearsalError'
    ? rehearsalError(message, report)
    : rehearsalError(`rehearsal failed at ${draft.failed!.step} (${type}); production was not touched: ${message}`, report);
}

/** The ApplicationFailure an activity failed with (its type, message and details), if that is what it was. */
function failureOf(e: unknown): ApplicationFailure | undefined {
  if (e instanceof ApplicationFailure) return e;
  return e instanceof ActivityFailure && e.cause instanceof ApplicationFailure ? e.cause : undefined;
}
