// A test-only workflow: the one step runner (workflows/step-runner.ts, through runTableStep) over a
// step table of stub activities, with the run's real signal and update handlers and the real
// compensation code (workflows/migration.ts surgical), so a test sees the pause → resume cycle,
// skip, abort, roll-forward and the order compensations run in, without a database. The loop below
// mirrors the one in workflows/migration.ts for what those need: the step record of each, and where
// the loop goes on each decision.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Plan } from '../../plan/schema';
import { offeredActions } from '../../workflows/decisions';
import { installHandlers } from '../../workflows/handlers';
import { startAlongside, surgical, takeEarly, type Early } from '../../workflows/migration';
import { RunState } from '../../workflows/state';
import { runTableStep, type Step, type StepEnv } from '../../workflows/steps';
import { RollbackRequested, RollForwardRequested, RunAborted, type StepControl } from '../../workflows/step-runner';

/** The stub activity: records its call in the test process and fails while the test says so. */
export interface StubActivities {
  stub(label: string): Promise<{ label: string }>;
}

/** A step of the test's table: its activity is stub(name); its compensation, when declared, stub(`undo ${name}`). */
export interface StubStep {
  name: string;
  skippable?: boolean;
  rerunnable?: boolean;
  undo?: boolean;
  /** Steps whose activities start together with this one's (workflows/migration.ts startAlongside). */
  alongside?: string[];
}

export interface RunnerOutcome {
  status: string;
  steps: { step: string; outcome: string }[];
  results: string[];
}

const { stub } = proxyActivities<StubActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });

export async function runnerTable(plan: Plan, table: StubStep[]): Promise<RunnerOutcome> {
  const info = workflowInfo();
  const s = new RunState(plan, 'hash', 'alice', { workflowId: info.workflowId, runId: info.runId, runKey: 'runner000001' });
  const ctl: StepControl = {
    state: s,
    pendingResume: null,
    skippable: false,
    publish: () => undefined,
    offered: () => offeredActions(s, ctl.skippable),
  };
  installHandlers(ctl);
  const e: StepEnv = { s, ctl, input: { plan, runKey: s.ids.runKey, workflowId: info.workflowId, runId: info.runId } };
  // Stub steps under the product's names: typed as one step (the table checks results by name), run by the stub.
  const steps: Step[] = table.map((t) => ({
    name: t.name as 'preflight',
    run: () => stub(t.name) as Promise<never>,
    skippable: t.skippable,
    rerunnable: t.rerunnable,
    // Each compensation keeps its result under its own name, as the product's do (rollback, adopt-restore).
    ...(t.undo ? { undo: { name: `undo-${t.name}` as 'rollback', run: () => stub(`undo ${t.name}`) } } : {}),
  }));
  const end = (status: string): RunnerOutcome => ({
    status,
    steps: s.steps.map((r) => ({ step: r.step, outcome: r.outcome })),
    results: Object.keys(s.results),
  });
  const groups = Object.fromEntries(table.filter((t) => t.alongside).map((t) => [t.name, t.alongside!]));
  const early = new Map<string, Early>();
  try {
    for (let i = 0; i < steps.length;) {
      s.rollForwardTargets = steps
        .slice(0, i + 1)
        .filter((x) => x.rerunnable)
        .map((x) => x.name);
      startAlongside(e, steps, i, early, groups);
      try {
        await runTableStep(e, takeEarly(e, steps[i], early));
        i++;
      } catch (err) {
        early.clear();
        if (err instanceof RollForwardRequested) {
          i = steps.findIndex((x) => x.name === err.decision.fromStep);
          s.record(err.decision.fromStep, 'retried', err.message);
          continue;
        }
        if (err instanceof RollbackRequested) {
          await surgical(e, steps.slice(0, i), err, { decision: err.decision, at: i, stage: 'start' });
          return end('rolled-back');
        }
        throw err;
      }
    }
    return end('completed');
  } catch (err) {
    if (err instanceof RunAborted) return end('aborted');
    throw err;
  }
}
