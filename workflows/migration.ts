// Workflow `cutoverMigration`: one durable run of a strategy's step table (workflows/steps.ts).
// Deterministic code only: all I/O is in activities, time comes from the workflow clock.
// The loop runs each step through the one step-runner; a paused step comes back with on-call's
// decision: retry and skip are handled there, abort ends the run, roll-forward moves the loop back
// to a chosen step, rollback runs the compensations of the completed steps in reverse.
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import {
  workflowIdFor,
  type ResumeInput,
  type SignatureEvidence,
  type StatusView,
  type StepError,
  type WorkflowInput,
} from '../common/temporal';
import { offeredActions } from './decisions';
import { gate } from './gates';
import { installHandlers } from './handlers';
import { acceptInput } from './plan-input';
import { RunState, now, type RollingBack } from './state';
import { carryIdentities, evidenceNote, packFor, quick, runTableStep, STRATEGIES, type Step, type StepEnv } from './steps';
import {
  ContinueRequested,
  describeFailure,
  RollbackRequested,
  RollForwardRequested,
  RunAborted,
  runStep,
  type StepControl,
} from './step-runner';
import { appendRestoreDetails, restoreFromBackup } from './restore';
import { DriftDetected } from './drift';
import { continuedFrom, continueRun, continueSuggested } from './continue';
import { publishDetails, publishState } from './visibility';
import { isUnsuccessfulOutcome, outcomeFailureType } from '../common/outcome';
import { planFailure } from '../common/plan-failure';

export async function cutoverMigration(input: WorkflowInput): Promise<StatusView> {
  const view = await migrate(input);
  if (!isUnsuccessfulOutcome(view.status)) return view;
  // Not a success: closed as Failed (the UI's list shows it so), the whole result in the details.
  throw ApplicationFailure.create({
    type: outcomeFailureType(view.status),
    // No error text: a database's message may quote row values, and a failure's message is never encrypted.
    message: `cutover ${view.planId} ended ${view.status}: the run's result (status and evidence) is this failure's details; \`cutover status ${view.planId}\` reads it`,
    nonRetryable: true,
    details: [view],
  });
}

async function migrate(input: WorkflowInput): Promise<StatusView> {
  // A continuation (workflows/continue.ts) carries the accepted plan and the whole state.
  const resumed = continuedFrom(input);
  const { plan, planHash } = resumed ? { plan: resumed.state.plan, planHash: resumed.state.planHash } : await acceptInput(input);
  const info = workflowInfo();
  // One run per plan at a time is what the workflow id guarantees: a run under another id would
  // slip past the "already running" guard and race the real one for the same production rows.
  if (info.workflowId !== workflowIdFor(plan.id)) {
    throw planFailure({
      path: 'id',
      message: `the workflow id must be ${workflowIdFor(plan.id)} for plan ${plan.id} (got ${info.workflowId})`,
    });
  }
  // Staging names and idempotency guards hang off the run key: a Temporal reset changes runId but
  // keeps originalExecutionRunId, so a reset run finds its own staging and publish guard.
  // A continued run keeps the first run's key and id (its own are new).
  const runKey = info.originalExecutionRunId.replace(/-/g, '').slice(0, 12);
  const s = resumed
    ? RunState.restore(resumed.state)
    : new RunState(plan, planHash, input.initiatedBy, { workflowId: info.workflowId, runId: info.runId, runKey });
  const last: { status?: string; phase?: string } = {};
  const ctl: StepControl = {
    state: s,
    pendingResume: null,
    skippable: false,
    publish: () => {
      publishState(s, last);
      appendRestoreDetails(s);
    },
    offered: () => offeredActions(s, ctl.skippable),
  };
  ctl.startSize = info.historySize;
  ctl.acceptDatabase = (d, signature) => acceptMovedDatabase(e, d, signature);
  installHandlers(ctl);
  publishDetails(s);
  const e: StepEnv = { s, ctl, input: { plan, runKey: s.ids.runKey, workflowId: info.workflowId, runId: s.ids.runId } };
  // A continued run checks the same databases as before it continued (preflight's identities).
  if (resumed) carryIdentities(e, s.results.preflight);
  const steps = STRATEGIES[plan.strategy];
  if (!steps) throw planFailure({ path: 'strategy', message: `${plan.strategy} is not built yet` });

  // Activities started ahead of their step's turn (startAlongside), by step name.
  const early = new Map<string, Early>();
  try {
    // A continued run whose rollback was under way resumes the rollback where it was.
    if (resumed && s.rollingBack) return await rollBack(e, steps.slice(0, s.rollingBack.at), new RollbackRequested(s.rollingBack.decision));
    for (let i = resumed?.at ?? 0; i < steps.length;) {
      // A safe point: between steps, nothing running.
      if (continueSuggested(ctl)) return await continueRun(s, i);
      const step = steps[i];
      if (step.gate) {
        const verdict = await gate(ctl, step.gate);
        if (verdict === 'continue') return await continueRun(s, i);
        if (verdict !== 'approved') return endUnapproved(e);
        i++;
        continue;
      }
      if (step.omit?.(e)) {
        i++;
        continue;
      }
      const why = step.notApplicable?.(e) ?? null;
      if (why !== null) {
        s.record(step.name, 'skipped', why);
        i++;
        continue;
      }
      s.rollForwardTargets = steps
        .slice(0, i + 1)
        .filter((x) => x.rerunnable)
        .map((x) => x.name);
      startAlongside(e, steps, i, early);
      try {
        await runTableStep(e, takeEarly(e, step, early));
        i++;
      } catch (err) {
        early.clear();
        if (err instanceof RollForwardRequested) {
          i = steps.findIndex((x) => x.name === err.decision.fromStep);
          s.record(err.decision.fromStep, 'retried', err.message);
          continue;
        }
        if (err instanceof RollbackRequested) return await rollBack(e, steps.slice(0, i), err);
        if (err instanceof DriftDetected) {
          // What was approved is not what would move: a new dry run, and gate plan (and cutover) again.
          s.voidApprovals();
          s.record('gate:plan', 'retried', err.message);
          i = steps.findIndex((x) => x.name === 'preflight');
          continue;
        }
        if (err instanceof ContinueRequested) return await continueRun(s, i);
        throw err;
      }
    }
    s.status = 'completed';
    return finish(ctl);
  } catch (err) {
    if (!(err instanceof RunAborted)) throw err;
    s.status = 'aborted';
    s.record(s.phase, 'aborted', err.message);
    return close(e, 'aborted', 'could not clean staging after abort');
  }
}

/**
 * Steps whose activity starts together with the named step's, not after it: validate reads back the
 * published rows, the access checks read grants, the Pilot's consent and the moved rows' dates —
 * both read only, on their own connections, so neither waits for the other. The erasure passes are
 * not among them: they delete from Production, which validate is reading back.
 */
const ALONGSIDE: Readonly<Record<string, readonly string[]>> = { validate: ['access-checks'] };

/** An activity started before its step's turn, and the run's pause count when it started. */
export interface Early {
  run: Promise<unknown>;
  pauses: number;
}

/**
 * When steps[i] leads a group (ALONGSIDE), start the activities of the members that directly follow
 * it and apply to this run. Each member is still its own step, run in table order through the step
 * runner (its status rows, pause, retry, skip and evidence as before): its first attempt takes the
 * early result (takeEarly). Only the activities' start moves: the workflow's commands change, not
 * what a step does. (Exported, with `groups`, for test/step-runner.test.ts.)
 */
export function startAlongside(
  e: StepEnv,
  steps: Step[],
  i: number,
  early: Map<string, Early>,
  groups: Readonly<Record<string, readonly string[]>> = ALONGSIDE,
): void {
  const members = groups[steps[i].name];
  if (!members) return; // not a group's lead: what a lead started waits for its member's turn
  early.clear();
  for (let j = i + 1; j < steps.length && members.includes(steps[j].name); j++) {
    const m = steps[j];
    if (m.gate || !m.run || m.omit?.(e) || (m.notApplicable?.(e) ?? null) !== null) break;
    const run = m.run(e);
    run.catch(() => undefined); // its step's runner reads the failure, at its turn
    early.set(m.name, { run, pauses: e.s.pauses });
  }
}

/**
 * The step with its first attempt taken from an activity started early — unless the run paused since
 * (a human decided something in between: what it checked may have changed), then it runs afresh.
 * A retry always runs afresh.
 */
export function takeEarly<S extends Step>(e: StepEnv, step: S, early: Map<string, Early>): S {
  const got = early.get(step.name);
  if (!got) return step;
  early.delete(step.name);
  if (got.pauses !== e.s.pauses) return step;
  let first = true;
  // The early activity is this step's own run(e): the same result type, so the wrapper keeps S's.
  const run = (env: StepEnv) => {
    if (!first) return step.run!(env);
    first = false;
    return got.run;
  };
  return { ...step, run: run as S['run'] };
}

/**
 * Roll back as on-call chose: surgical (the compensations) or restore from the backup. A rollback
 * that pauses may be resumed with the other mode (a blocked surgical rollback → restore): the
 * RollbackRequested it throws switches paths here. Either way the run ends rolled back.
 */
async function rollBack(e: StepEnv, done: Step[], request: RollbackRequested): Promise<StatusView> {
  const { s } = e;
  // A flood of signals during a rollback continues the run as new too: while it runs, pauses or
  // waits at gate restore; the next run resumes it at its stage (s.rollingBack).
  for (let req = request; ;) {
    const at: RollingBack =
      s.rollingBack?.decision === req.decision ? s.rollingBack : { decision: req.decision, at: done.length, stage: 'start' };
    s.rollingBack = at;
    try {
      if (req.decision.mode === 'restore') await restoreFromBackup(e, req, at);
      else await surgical(e, done, req, at);
      break;
    } catch (err) {
      if (err instanceof ContinueRequested) return await continueRun(s, done.length);
      if (!(err instanceof RollbackRequested)) throw err;
      req = err;
    }
  }
  s.rollingBack = null;
  e.s.status = 'rolled-back';
  return close(e, 'rolled-back', 'could not write evidence and clean staging after the rollback');
}

/**
 * On-call accepts that an alias's database legitimately moved (restored or copied elsewhere): read
 * the identity it reaches now, record the move (who, why, from, to: status and evidence), and check
 * that identity from now on. The step then runs again against the moved database.
 */
async function acceptMovedDatabase(e: StepEnv, d: ResumeInput, signature?: SignatureEvidence): Promise<StepError | null> {
  const alias = d.acceptDatabase!;
  try {
    const to = await quick.databaseIdentity({ plan: e.s.plan, alias });
    const from = e.input.identities?.[alias] ?? null;
    e.s.databaseMoves.push({ alias, from, to, by: d.by, reason: d.reason, at: now(), ...(signature ? { signature } : {}) });
    e.input = { ...e.input, identities: { ...e.input.identities, [alias]: to } };
    return null;
  } catch (err) {
    return describeFailure('accept-database', err);
  }
}

/** Undo the completed steps that declare a compensation, latest first (exported for test/step-runner.test.ts; not a workflow: index.ts exports only cutoverMigration). */
export async function surgical(e: StepEnv, done: Step[], request: RollbackRequested, at: RollingBack): Promise<void> {
  const { s, ctl } = e;
  if (at.stage === 'start') s.record('rollback', 'started', request.message);
  at.stage = 'surgical';
  s.rollForwardTargets = [];
  const results = s.results as Record<string, unknown>;
  for (const step of [...done].reverse()) {
    const undo = step.undo;
    if (!undo || results[step.name] === undefined) continue;
    if (results[undo.name] !== undefined) continue; // undone before the run continued as new
    // A failed rollback pauses like any step (nothing committed); retry it once the cause is fixed.
    const out = await runStep(ctl, undo.name, () => undo.run(e) as Promise<never>);
    if (!out.skipped) (s.results as Record<string, unknown>)[undo.name] = out.value;
  }
}

/** A gate rejected or expired: the evidence pack is written too (best effort). */
async function endUnapproved(e: StepEnv): Promise<StatusView> {
  return close(e, e.s.status as 'rejected' | 'expired', 'could not write the evidence pack', true);
}

/** Best effort at the end of an early stop: evidence written, staging dropped; an unreachable target must not keep the run open. */
async function close(
  e: StepEnv,
  status: 'aborted' | 'rolled-back' | 'rejected' | 'expired',
  onFailure: string,
  onlyIfControlSchema = false,
): Promise<StatusView> {
  e.s.record('finalize', 'started');
  try {
    const written = await quick.finalize({
      ...e.input,
      pack: packFor(e.s, status),
      status,
      ...(onlyIfControlSchema ? { onlyIfControlSchema } : {}),
    });
    e.s.results.finalize = written;
    e.s.record('finalize', 'completed', evidenceNote(written));
  } catch {
    e.s.record('finalize', 'failed', onFailure);
  }
  return finish(e.ctl);
}

function finish(ctl: StepControl): StatusView {
  const s = ctl.state;
  s.gate = null;
  s.finishedAt = now();
  ctl.publish();
  // The result is what the CLI reads once the run is closed (no worker needed): status and evidence.
  return { ...s.statusView(), evidence: s.evidence() };
}
