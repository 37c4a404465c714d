// Continue-as-new: a run whose history grows large (Temporal suggests it: many signals, e.g. a flood
// of refused approvals with big payloads) starts a fresh history carrying its whole state, so no
// volume of signals can get the run terminated for "history size exceeds limit". It happens only at
// a safe point — between steps, while a gate waits or a step is paused (also during a rollback: it
// resumes at its stage, RunState.rollingBack) — and after every handler finished; never while a
// step runs (its activity would be cancelled with its run). A flood during a step is bounded by the
// server instead: it accepts at most `history.maximumSignalsPerExecution` signals per run, each at
// most `limit.blobSize.error` (common/history-budget.ts has the numbers and the bound); the run
// continues at its next safe point once half of that budget is spent, so a run at a gate always
// has signals left. The workflow id stays; the run id changes; the run key (staging names, publish
// guards) and the run id reported in evidence stay those of the first run, carried in the state.
import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import { SIGNALS_PER_RUN } from '../common/history-budget';
import { planFailure } from '../common/plan-failure';
import type { WorkflowInput } from '../common/temporal';
import type { RunSnapshot, RunState } from './state';

/** What a continued run starts from: the state, and the index in the step table to resume at. */
export interface Continued {
  at: number;
  state: RunSnapshot;
}

/**
 * The carried state, when this run is the continuation of one of ours; null for a fresh start.
 * `continued` is honoured only when Temporal says this run was continued as new: a person starting a
 * run with a forged state (approvals already given) is refused.
 */
export function continuedFrom(input: WorkflowInput): Continued | null {
  if (!input || typeof input !== 'object' || input.continued === undefined) return null;
  if (!workflowInfo().continuedFromExecutionRunId) {
    throw planFailure({
      path: 'continued',
      message: 'is set only by the workflow itself when it continues as new: start a run with {plan, initiatedBy}',
    });
  }
  const c = input.continued as Continued;
  if (!c || typeof c !== 'object' || typeof c.at !== 'number' || !c.state || typeof c.state !== 'object') {
    throw planFailure({ path: 'continued', message: 'is not a state this workflow wrote' });
  }
  return c;
}

/**
 * Continue at this safe point: Temporal suggests a fresh history (it grew past the server's
 * suggestion in events or bytes) and the history grew since this run started (`startSize`: its size
 * in the first workflow task, whose start event carries the whole state: a state near the suggested
 * size must not make every new run of the chain continue at once); or this run has received half
 * the signals the server allows one run (the rest stays for a flood during the next step).
 */
export function continueSuggested(ctl: { startSize?: number; signalsThisRun?: number }): boolean {
  const info = workflowInfo();
  if ((ctl.signalsThisRun ?? 0) >= SIGNALS_PER_RUN / 2) return true;
  const startSize = ctl.startSize ?? 0;
  return info.continueAsNewSuggested && (info.historySize > 2 * startSize || info.historyLength >= 100);
}

/** End this run and start the next of the chain at step `at` with the whole state; never returns. */
export async function continueRun(s: RunState, at: number): Promise<never> {
  // Signal and update handlers run to completion first: none is lost between the two runs.
  await condition(allHandlersFinished);
  s.continuedAsNew++;
  const input: WorkflowInput = { plan: s.plan, initiatedBy: s.initiatedBy, continued: { at, state: s.snapshot() } satisfies Continued };
  return continueAsNew<(i: WorkflowInput) => Promise<unknown>>(input);
}
