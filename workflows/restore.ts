// Rollback by restore, the workflow side: the alternative when a surgical rollback is blocked.
// Measure what a restore would discard (restorePreview), wait for gate `restore` (N of M, the same
// rules as every gate) with that shown in status and the UI's current details, then run the
// `restore` activity through the step-runner (a failure pauses at `restore`; retry re-runs it).
// A rejected or expired gate does not end the run: it pauses with the restore refused
// (RestoreRefused), so on-call chooses again — retry asks for approval again (with a fresh
// preview), rollback surgical tries the surgical path; approvals already given still count.
import { ApplicationFailure, getCurrentDetails, setCurrentDetails } from '@temporalio/workflow';
import { planFailure } from '../common/plan-failure';
import type { RestorePreview } from '../common/results';
import { verifiedTargetBackup } from './decisions';
import { gate } from './gates';
import type { RollingBack, RunState } from './state';
import { long, type StepEnv } from './steps';
import { ContinueRequested, runStep, type RollbackRequested } from './step-runner';

export async function restoreFromBackup(e: StepEnv, request: RollbackRequested, at: RollingBack): Promise<void> {
  const { s, ctl } = e;
  // Where a continued run resumes (`at`, carried in s.rollingBack): the preview is not measured
  // again while its gate waits, nor the gate asked again once approved.
  if (at.stage === 'start') {
    s.record('rollback', 'started', request.message);
    s.rollForwardTargets = [];
  }
  const stage = (x: RollingBack['stage']) => void (at.stage = x);
  const backup = verifiedTargetBackup(s);
  if (!backup) throw planFailure({ path: 'backup', message: 'restore requested without a verified target backup' }); // resumeRefusal refuses this first
  const input = { ...e.input, backup };
  let why = '';
  while (at.stage !== 'restore') {
    if (at.stage !== 'gate' && at.stage !== 'refused') {
      stage('preview');
      const preview = await runStep(ctl, 'restore-preview', () => long.restorePreview(input), { skippable: true });
      if (!preview.skipped) s.results['restore-preview'] = preview.value;
    }
    let refused = true;
    if (at.stage === 'refused')
      refused = false; // paused with the refusal: a retry asks again
    else {
      stage('gate');
      const verdict = await gate(ctl, 'restore');
      if (verdict === 'continue') throw new ContinueRequested('gate:restore');
      if (verdict === 'approved') break;
      stage('refused');
      why =
        verdict === 'rejected' && s.rejection
          ? `rejected by ${s.rejection.approver}: ${s.rejection.reason}`
          : `no ${s.plan.approvals.required} approvals within ${s.plan.approvals.timeout}`;
      s.rejection = null;
    }
    await runStep(ctl, 'gate:restore', async () => {
      if (!refused) return;
      refused = false;
      throw ApplicationFailure.nonRetryable(
        `restore from the backup ${why}; nothing was restored. Retry asks for approval again; or roll back surgically`,
        'RestoreRefused',
      );
    });
    stage('preview');
  }
  stage('restore');
  const out = await runStep(ctl, 'restore', () => long.restore(input));
  if (!out.skipped) s.results.restore = out.value;
}

/**
 * Once gate restore was refused (paused there): what a restore would discard, in the UI's current
 * details. While the gate waits, the gate's own decision view says it (common/gate-view.ts).
 */
export function appendRestoreDetails(s: RunState): void {
  const preview = s.results['restore-preview'];
  if (!preview || s.gate === 'restore' || s.phase !== 'gate:restore') return;
  setCurrentDetails(`${getCurrentDetails()}\n\n${describePreview(preview)}`);
}

export function describePreview(p: RestorePreview): string {
  const rows = p.tables.map(
    (t) =>
      `- ${t.table}: backup ${t.backupRows}, now ${t.nowRows}, this run's ${t.insertedByRun}, written by others since the backup ${t.writtenSinceBackup} (${t.added} added, ${t.removed} removed, ${t.changed} changed)${t.examples.length ? `, e.g. ${t.examples.join('; ')}` : ''}`,
  );
  return [`**A restore from ${p.backup} would discard** (measured ${p.measuredAt}):`, ...p.summary.slice(0, 1), rows.join('\n')].join(
    '\n\n',
  );
}
