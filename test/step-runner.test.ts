/**
 * The step runner (workflows/step-runner.ts) with stub activities: a step that fails pauses the run
 * with the actions it accepts; retry runs it again, skip passes it (only a skippable one), abort ends
 * the run, roll-forward goes back to a step that may run again, and rollback runs the compensations
 * of the completed steps, latest first. The runner waits on Temporal's own conditions, so it runs in
 * a real workflow (test/helpers/runner-workflow.ts) on the dev server binary; no database.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { resumeUpdate, statusQuery, type ResumeInput, type StatusView } from '../common/temporal';
import { validatePlan } from '../plan/validate';
import { createWorker } from '../runtime/worker';
import type { RunnerOutcome, StubStep } from './helpers/runner-workflow';
import { runnerTable } from './helpers/runner-workflow';
import { startTemporal } from './helpers/temporal';

const taskQueue = 'step-runner-test';
const PLAN = validatePlan({
  version: 1,
  id: 'runner',
  strategy: 'selective',
  source: 'pilot',
  target: 'production',
  approvals: { approvers: ['bob', 'carol'], required: 1 },
  tables: [{ table: 'public.accounts', select: { all: true } }],
});

/** What the stub activity was called with, in order, and how many more times each label fails. */
let calls: string[] = [];
const failing = new Map<string, number>();
/** A label whose activity waits (up to 10 s) until the other label's activity has been called. */
const waits = new Map<string, string>();
const activities = {
  async stub(label: string): Promise<{ label: string }> {
    calls.push(label);
    const other = waits.get(label);
    for (let i = 0; other !== undefined && !calls.includes(other); i++) {
      if (i === 100)
        throw ApplicationFailure.create({ type: 'StubFailure', message: `${label} waited for ${other} in vain`, nonRetryable: true });
      await new Promise((r) => setTimeout(r, 100));
    }
    const left = failing.get(label) ?? 0;
    if (left > 0) {
      failing.set(label, left - 1);
      throw ApplicationFailure.create({ type: 'StubFailure', message: `${label} failed on purpose`, nonRetryable: true });
    }
    return { label };
  },
};

let env: TestWorkflowEnvironment;
let worker: Worker;
let done: Promise<void>;

beforeAll(async () => {
  env = await startTemporal();
  ({ worker } = await createWorker({
    connection: env.nativeConnection,
    config: { address: env.address, namespace: env.namespace ?? 'default' },
    taskQueue,
    workflowsPath: require.resolve('./helpers/runner-workflow'),
    activities,
  }));
  done = worker.run();
}, 180000);

afterAll(async () => {
  worker?.shutdown();
  await done;
  await env?.teardown();
});

beforeEach(() => {
  calls = [];
  failing.clear();
  waits.clear();
});

function start(table: StubStep[]) {
  return env.client.workflow.start(runnerTable, { taskQueue, workflowId: `runner-${randomUUID()}`, args: [PLAN, table] });
}

type Handle = Awaited<ReturnType<typeof start>>;

/** The run's status once it is paused (at `phase`, when given): polled, the runner pauses once the activity's failure arrives. */
async function paused(h: Handle, phase?: string): Promise<StatusView> {
  let last: StatusView | undefined;
  for (let i = 0; i < 300; i++) {
    last = await h.query(statusQuery);
    if (last.status === 'paused' && (phase === undefined || last.phase === phase)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the run did not pause${phase ? ` at ${phase}` : ''} (last: ${last?.status} ${last?.phase})`);
}

const resume = (h: Handle, decision: Partial<ResumeInput>) =>
  h.executeUpdate(resumeUpdate, { args: [{ by: 'oncall', reason: 'test', action: 'retry', ...decision } as ResumeInput] });
const outcomes = (r: RunnerOutcome) => r.steps.map((x) => `${x.step} ${x.outcome}`);

test('a failing step pauses with the error and the actions it accepts; retry runs it again and the run goes on', async () => {
  failing.set('b', 1);
  const h = await start([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
  const s = await paused(h);
  expect({ phase: s.phase, error: s.error?.message, type: s.error?.type, actions: s.actions, pause: s.pause }).toEqual({
    phase: 'b',
    error: 'b failed on purpose',
    type: 'StubFailure',
    actions: ['retry', 'abort'],
    pause: 1,
  });
  expect(calls).toEqual(['a', 'b']);
  await resume(h, { action: 'retry' });
  const r = await h.result();
  expect(calls).toEqual(['a', 'b', 'b', 'c']);
  expect(r.status).toBe('completed');
  expect(outcomes(r)).toEqual([
    'a started',
    'a completed',
    'b started',
    'b failed',
    'b retried',
    'b started',
    'b completed',
    'c started',
    'c completed',
  ]);
}, 60000);

test('skip passes a skippable step (no result kept); a step that is not skippable refuses it and stays paused', async () => {
  failing.set('b', 1);
  failing.set('c', 1);
  const h = await start([{ name: 'a' }, { name: 'b', skippable: true }, { name: 'c' }, { name: 'd' }]);
  expect((await paused(h)).actions).toEqual(['retry', 'skip', 'abort']);
  await resume(h, { action: 'skip' });
  const atC = await paused(h, 'c');
  expect(atC.actions).toEqual(['retry', 'abort']);
  await expect(resume(h, { action: 'skip' })).rejects.toMatchObject({ cause: { message: 'step "c" cannot be skipped' } });
  const still = await h.query(statusQuery);
  expect({ status: still.status, phase: still.phase, refused: still.refused.map((x) => x.reason) }).toEqual({
    status: 'paused',
    phase: 'c',
    refused: ['step "c" cannot be skipped'],
  });
  await resume(h, { action: 'retry' });
  const r = await h.result();
  expect(calls).toEqual(['a', 'b', 'c', 'c', 'd']);
  expect(outcomes(r)).toContain('b skipped');
  expect(r.results).toEqual(['a', 'c', 'd']);
}, 60000);

test('abort ends the run where it paused: nothing after it runs', async () => {
  failing.set('b', 1);
  const h = await start([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
  await paused(h);
  await resume(h, { action: 'abort' });
  const r = await h.result();
  expect(r.status).toBe('aborted');
  expect(calls).toEqual(['a', 'b']);
}, 60000);

test('roll-forward goes back to the step named and runs everything after it again', async () => {
  failing.set('c', 1);
  const h = await start([{ name: 'a' }, { name: 'b', rerunnable: true }, { name: 'c', rerunnable: true }, { name: 'd' }]);
  await paused(h);
  await expect(resume(h, { action: 'roll-forward', fromStep: 'a' })).rejects.toMatchObject({
    cause: { message: 'cannot roll forward from "a": choose one of b, c' },
  });
  await resume(h, { action: 'roll-forward', fromStep: 'b' });
  const r = await h.result();
  expect(r.status).toBe('completed');
  expect(calls).toEqual(['a', 'b', 'c', 'b', 'c', 'd']);
}, 60000);

test('rollback runs the compensations of the completed steps, latest first, and skips those of steps that left no result', async () => {
  failing.set('d', 1);
  failing.set('c', 1);
  const table = [
    { name: 'a', undo: true },
    { name: 'b', undo: true, skippable: true },
    { name: 'c', undo: true, skippable: true },
    { name: 'd', undo: true },
    { name: 'e', undo: true },
  ];
  const h = await start(table);
  await paused(h, 'c');
  await resume(h, { action: 'skip' });
  expect((await paused(h, 'd')).actions).toEqual(['retry', 'rollback']);
  await resume(h, { action: 'rollback' });
  const r = await h.result();
  expect(r.status).toBe('rolled-back');
  // a and b completed, c was skipped, d failed: b's compensation, then a's; none for c, d or e.
  expect(calls).toEqual(['a', 'b', 'c', 'd', 'undo b', 'undo a']);
}, 60000);

test('a compensation that fails pauses like any step, and retry runs it again before the next one', async () => {
  failing.set('c', 1);
  failing.set('undo b', 1);
  const h = await start([{ name: 'a', undo: true }, { name: 'b', undo: true }, { name: 'c' }]);
  await paused(h);
  await resume(h, { action: 'rollback' });
  // It pauses at the compensation, under its own name.
  const s = await paused(h, 'undo-b');
  expect(s.error?.message).toBe('undo b failed on purpose');
  await resume(h, { action: 'retry' });
  const r = await h.result();
  expect(r.status).toBe('rolled-back');
  expect(calls).toEqual(['a', 'b', 'c', 'undo b', 'undo b', 'undo a']);
}, 60000);

/** How many times each label's activity was called. */
const counted = () => calls.reduce<Record<string, number>>((m, c) => ({ ...m, [c]: (m[c] ?? 0) + 1 }), {});

test('a step started alongside the one before it runs once, together with it, and is still recorded as its own step after it', async () => {
  // b completes only once c's activity has been called: c must have started with b, not after it.
  waits.set('b', 'c');
  const h = await start([{ name: 'a' }, { name: 'b', alongside: ['c'] }, { name: 'c' }, { name: 'd' }]);
  const r = await h.result();
  expect(r.status).toBe('completed');
  expect(counted()).toEqual({ a: 1, b: 1, c: 1, d: 1 });
  expect(outcomes(r)).toEqual([
    'a started',
    'a completed',
    'b started',
    'b completed',
    'c started',
    'c completed',
    'd started',
    'd completed',
  ]);
}, 60000);

test('when the lead pauses, the step started alongside it runs again at its turn (what it checked may have changed meanwhile)', async () => {
  failing.set('b', 1);
  const h = await start([{ name: 'a' }, { name: 'b', alongside: ['c'] }, { name: 'c' }]);
  expect((await paused(h, 'b')).error?.message).toBe('b failed on purpose');
  await resume(h, { action: 'retry' });
  const r = await h.result();
  expect(r.status).toBe('completed');
  expect(counted()).toEqual({ a: 1, b: 2, c: 2 });
}, 60000);

test('a step started alongside that failed pauses at its own turn, after the lead completed; retry runs it again', async () => {
  failing.set('c', 1);
  const h = await start([{ name: 'a' }, { name: 'b', alongside: ['c'] }, { name: 'c' }]);
  const s = await paused(h, 'c');
  expect({ phase: s.phase, error: s.error?.message, step: s.error?.step }).toEqual({ phase: 'c', error: 'c failed on purpose', step: 'c' });
  await resume(h, { action: 'retry' });
  const r = await h.result();
  expect(r.status).toBe('completed');
  expect(counted()).toEqual({ a: 1, b: 1, c: 2 });
  expect(outcomes(r)).toEqual([
    'a started',
    'a completed',
    'b started',
    'b completed',
    'c started',
    'c failed',
    'c retried',
    'c started',
    'c completed',
  ]);
}, 60000);
