// Workflow `cutoverMigration`: the selective path of DESIGN.md as one durable run.
// Deterministic code only: all I/O is in activities, time comes from the workflow clock.
import { ActivityFailure, ApplicationFailure, condition, patched, proxyActivities, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { CutoverActivities } from '../common/activities';
import { NON_RETRYABLE } from '../common/failures';
import { planHash as hashPlan } from '../plan/canonical';
import { parseDuration } from '../plan/duration';
import type { Plan } from '../plan/schema';
import { validatePlan } from '../plan/validate';
import {
  approveSignal, approveUpdate, rejectSignal, rejectUpdate, reportQuery, resumeSignal, resumeUpdate, statusQuery,
  type EvidencePack, type GateName, type StatusView, type UpdateResult, type WorkflowInput,
} from '../common/temporal';
import { approveRefusal, rejectRefusal, resumeRefusal } from './decisions';
import { RunState, now } from './state';
import { failureDetails, RunAborted, runStep, type StepControl } from './step-runner';
import { publishState } from './visibility';

const retry: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 3,
  nonRetryableErrorTypes: [...NON_RETRYABLE],
};
const quick = proxyActivities<CutoverActivities>({ startToCloseTimeout: '10 minutes', retry });
// Data steps heartbeat (progress, or a keep-alive while one statement runs): a dead worker shows within 2 minutes.
const long = proxyActivities<CutoverActivities>({ startToCloseTimeout: '12 hours', heartbeatTimeout: '2 minutes', retry });
// Pure but recorded: the plan is normalised once, its result kept in history (see acceptInput).
const local = proxyLocalActivities<CutoverActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['PlanError'] } });

export async function cutoverMigration(input: WorkflowInput): Promise<StatusView> {
  const { plan, planHash } = await acceptInput(input);
  const info = workflowInfo();
  // Staging names and idempotency guards hang off the run key: a Temporal reset changes runId but
  // keeps originalExecutionRunId, so a reset run finds its own staging and publish guard.
  const runKey = info.originalExecutionRunId.replace(/-/g, '').slice(0, 12);
  const s = new RunState(plan, planHash, input.initiatedBy, { workflowId: info.workflowId, runId: info.runId, runKey });
  const last: { status?: string; phase?: string } = {};
  const ctl: StepControl = { state: s, pendingResume: null, skippable: false, publish: () => publishState(s, last) };
  installHandlers(ctl);
  const step = { plan, runKey, workflowId: info.workflowId, runId: info.runId };

  try {
    const dry = await runStep(ctl, 'preflight', () => long.preflight(step));
    if (!dry.skipped) {
      s.dryRun = dry.value;
      for (const t of dry.value.tables) s.progress[t.table] = { table: t.table, rowsCopied: 0, rowsTotal: t.toMove, phase: 'planned' };
    }
    if ((await gate(ctl, 'plan')) !== 'approved') return finish(ctl);
    s.record('backup', 'skipped', 'no backup store in the plan');
    s.record('rehearsal', 'skipped', `rehearsal mode ${plan.rehearsal?.mode ?? 'skip'}`);
    if ((await gate(ctl, 'cutover')) !== 'approved') return finish(ctl);

    const expectedRows = Object.fromEntries(Object.values(s.progress).map((p) => [p.table, p.rowsTotal]));
    const stageNow = async () => {
      const staged = await runStep(ctl, 'stage', () => long.stage({ ...step, expectedRows }), { detail: (v) => v.restaged ?? undefined });
      if (!staged.skipped) {
        s.stage = staged.value;
        for (const t of staged.value.tables) s.progress[t.table] = { table: t.table, rowsCopied: t.rows, rowsTotal: t.rows, phase: 'staged' };
      }
    };
    // Steps that read staging: when it is gone (a reset to after stage of a finished run, a manual
    // drop), stage again and repeat the step; the publish guard keeps production written once.
    const onStaging = <T>(fn: () => Promise<T>) => async (): Promise<T> => {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof ActivityFailure && e.cause instanceof ApplicationFailure && e.cause.type === 'StagingLost')) throw e;
        s.record(s.phase, 'retried', `${e.cause.message}; staging again from a new Pilot snapshot`);
        await stageNow();
        if (s.stage && s.cleanup) s.cleanup = (await long.cleanup(step)) ?? s.cleanup;
        return await fn();
      }
    };
    await stageNow();
    const cleaned = await runStep(ctl, 'cleanup', onStaging(() => long.cleanup(step)));
    if (!cleaned.skipped) s.cleanup = cleaned.value;
    const published = await runStep(ctl, 'publish', onStaging(() => long.publish(step)));
    if (!published.skipped) {
      s.publish = published.value;
      for (const t of published.value.tables) if (s.progress[t.table]) s.progress[t.table].phase = 'published';
    }
    await runStep(ctl, 'validate', onStaging(async () => {
      try {
        s.validation = await long.validate({ ...step, publish: s.publish ?? { tables: [] }, stage: s.stage! });
      } catch (e) {
        s.validation = (failureDetails(e) as typeof s.validation) ?? s.validation;
        throw e;
      }
    }));
    s.record('access-checks', 'skipped', 'no access checks in the plan');
    s.record('erasure', 'skipped', plan.erasure
      ? 'registers were applied in cleanup; re-applying them in production after publish is not built yet'
      : 'no erasure registers in the plan');
    await runStep(ctl, 'finalize', () => quick.finalize({ ...step, pack: packFor(s, 'completed'), status: 'completed' }), { skippable: true });
    s.status = 'completed';
    return finish(ctl);
  } catch (err) {
    if (!(err instanceof RunAborted)) throw err;
    s.status = 'aborted';
    s.record(s.phase, 'aborted', err.message);
    // Best effort: clean staging and leave evidence; an unreachable target must not keep the run open.
    try {
      await quick.finalize({ ...step, pack: packFor(s, 'aborted'), status: 'aborted' });
    } catch {
      s.record('finalize', 'failed', 'could not clean staging after abort');
    }
    return finish(ctl);
  }
}

/**
 * The approved plan is fixed once: validated and normalised by a local activity whose answer is
 * recorded in history, so a later change of a default in plan/ cannot change a running workflow's
 * plan or hash on replay. Runs recorded before this existed keep validating in the sandbox.
 */
async function acceptInput(input: WorkflowInput): Promise<{ plan: Plan; planHash: string }> {
  if (!input || typeof input !== 'object') throw ApplicationFailure.nonRetryable('input must be {plan, initiatedBy}', 'PlanError');
  if (typeof input.initiatedBy !== 'string' || input.initiatedBy.trim() === '') {
    throw ApplicationFailure.nonRetryable('initiatedBy: required (who starts this run)', 'PlanError');
  }
  if (patched('plan-recorded-once')) {
    try {
      return await local.acceptPlan(input.plan);
    } catch (e) {
      const cause = e instanceof ActivityFailure && e.cause instanceof ApplicationFailure ? e.cause : null;
      if (cause?.type === 'PlanError') throw ApplicationFailure.nonRetryable(cause.message, 'PlanError');
      throw e;
    }
  }
  try {
    const plan = validatePlan(input.plan);
    return { plan, planHash: hashPlan(plan) };
  } catch (e) {
    throw ApplicationFailure.nonRetryable(`plan refused:\n${(e as Error).message}`, 'PlanError');
  }
}

function packFor(s: RunState, status: EvidencePack['status']): EvidencePack {
  return { ...s.evidence(), status, finishedAt: now() };
}

function finish(ctl: StepControl): StatusView {
  const s = ctl.state;
  s.gate = null;
  s.finishedAt = now();
  ctl.publish();
  return s.statusView();
}

/** Wait for N-of-M approvals, a rejection, or the gate's timeout (→ expired, nothing written). */
async function gate(ctl: StepControl, name: GateName): Promise<'approved' | 'rejected' | 'expired'> {
  const s = ctl.state;
  const { required, timeout } = s.plan.approvals;
  s.gate = name;
  s.status = 'awaiting-approval';
  s.phase = `gate:${name}`;
  ctl.publish();
  const decided = await condition(() => s.approvalsFor(name).length >= required || s.rejection !== null, parseDuration(timeout));
  s.gate = null;
  if (s.rejection) {
    s.status = 'rejected';
    s.record(`gate:${name}`, 'rejected', `by ${s.rejection.approver}: ${s.rejection.reason}`);
    return 'rejected';
  }
  if (!decided) {
    s.status = 'expired';
    s.record(`gate:${name}`, 'expired', `no ${required} approvals within ${timeout}`);
    return 'expired';
  }
  s.record(`gate:${name}`, 'approved', s.approvalsFor(name).map((a) => a.approver).join(', '));
  return 'approved';
}

function installHandlers(ctl: StepControl): void {
  const s = ctl.state;
  const refuse = (signal: 'approve' | 'reject' | 'resume', by: unknown, reason: string, input: unknown) => {
    s.refuse({ signal, by: typeof by === 'string' ? by : '?', reason, at: now(), input });
    ctl.publish();
  };
  const result = (): UpdateResult => ({ accepted: true, status: s.status, gate: s.gate });

  // Each returns the refusal reason or null; the signal records it, the update also answers with it.
  const approve = (i: Parameters<typeof approveRefusal>[1]) => {
    const why = approveRefusal(s, i);
    if (why) return refuse('approve', i?.approver, why, i), why;
    s.approvals.push({ gate: i.gate, approver: i.approver, ...(i.comment ? { comment: i.comment } : {}), at: now() });
    ctl.publish();
    return null;
  };
  const reject = (i: Parameters<typeof rejectRefusal>[1]) => {
    const why = rejectRefusal(s, i);
    if (why) return refuse('reject', i?.approver, why, i), why;
    s.rejection = { gate: i.gate, approver: i.approver, reason: i.reason, at: now() };
    return null;
  };
  const resume = (i: Parameters<typeof resumeRefusal>[1]) => {
    const why = resumeRefusal(s, i, ctl.skippable) ?? (ctl.pendingResume ? 'a resume decision is already being applied' : null);
    if (why) return refuse('resume', i?.by, why, i), why;
    ctl.pendingResume = i;
    return null;
  };
  const asUpdate = <I>(fn: (i: I) => string | null) => (i: I): UpdateResult => {
    const why = fn(i);
    if (why) throw ApplicationFailure.create({ type: 'Refused', message: why, nonRetryable: true });
    return result();
  };

  setHandler(approveSignal, (i) => void approve(i));
  setHandler(rejectSignal, (i) => void reject(i));
  setHandler(resumeSignal, (i) => void resume(i));
  setHandler(approveUpdate, asUpdate(approve));
  setHandler(rejectUpdate, asUpdate(reject));
  setHandler(resumeUpdate, asUpdate(resume));
  setHandler(statusQuery, () => s.statusView());
  setHandler(reportQuery, () => s.evidence());
}
