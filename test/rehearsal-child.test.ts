// The rehearsal as a child workflow (workflows/rehearsal.ts) on a real Temporal server and real
// PostgreSQL: its sub-steps are the run's own step activities, each scheduled in the child's history
// (Temporal retries them); a sub-step that keeps failing (a Production trigger that refuses inserts,
// restored into the scratch database with the backup) fails the child, which pauses the run's
// rehearsal step with RehearsalError and the report, the database's words in it; a retry starts a
// new child (`<run>/rehearsal/2`) on a fresh backup; the scratch database is gone after each (the
// test's own SQL on pg_database). While a child runs, the run's status names it and the child's own
// query gives its sub-steps, and the live progress `cutover status --watch` reads shows the child's sub-step; cancelling the run cancels the child, which drops its scratch database; so does terminating it (REQUEST_CANCEL).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { approveSignal, rehearsalProgressQuery, resumeUpdate, TASK_QUEUE, type StatusView } from '../common/temporal';
import type { RehearsalReport } from '../common/results';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { acknowledging, atGate, paused, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';
import { liveSteps } from '../client/commands/status';
import type { StepProgress } from '../common/progress';

const h = useHarness('cutover_rhc', SAAS_SCHEMA + PILOT_DATA);
const scratchLeft = async (url: string, runKey: string) =>
  rows(url, 'SELECT datname FROM pg_database WHERE datname = $1', [`cutover_rehearsal_${runKey}`]);
const plan = (id: string) =>
  saasPlan(id, {
    approvals: { approvers: ['bob'], required: 1, timeout: '1h' },
    backup: { store: `file://${mkdtempSync(path.join(tmpdir(), 'cutover-rhc-'))}` },
    rehearsal: { mode: 'scratch' },
  });
const BOOM = `CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'projects are frozen' USING HINT = 'drop trigger projects_frozen'; END $$;
  CREATE TRIGGER projects_frozen BEFORE INSERT ON projects FOR EACH ROW EXECUTE FUNCTION refuse_insert();`;

/** The activity types a child scheduled, in order, and the attempts each failure took. */
async function scheduled(child: WorkflowHandle): Promise<{ types: string[]; failedAttempts: Record<string, number> }> {
  const history = await child.fetchHistory();
  const types: string[] = [];
  const byId = new Map<string, string>();
  const failedAttempts: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      types.push(s.activityType!.name!);
      byId.set(String(e.eventId), s.activityType!.name!);
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) failedAttempts[byId.get(String(started.scheduledEventId))!] = started.attempt ?? 1;
  }
  return { types, failedAttempts };
}

test('a sub-step failing in the child pauses the rehearsal step; a retry runs a new child; no scratch database left', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA + BOOM);
  const handle = await startRun(h.env, plan('rhc-fail'));
  const atPlan = await waitFor(handle, atGate('plan'));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob', ...acknowledging(atPlan) });
  const view = await waitFor(handle, paused, 180000);
  expect(view.phase).toBe('rehearsal');
  expect(view.child).toBeUndefined(); // the child has ended
  expect(view.error?.type).toBe('RehearsalError');
  expect(view.error?.message).toMatch(/^rehearsal failed at publish \(\w*DatabaseError\); production was not touched: /);
  const report = ((await handle.query('report')) as { rehearsal: RehearsalReport }).rehearsal;
  expect(report).toMatchObject({
    ok: false,
    failed: { step: 'publish', database: { code: 'P0001', hint: 'drop trigger projects_frozen' } },
  });
  expect(report.timings.map((t) => t.step)).toEqual(['restore', 'stage', 'cleanup', 'publish']);
  expect(await scratchLeft(prod, view.runKey)).toEqual([]);

  // The child: its own workflow, failed, each sub-step an activity of its history (publish retried by Temporal).
  const first = h.env.client.workflow.getHandle(`${handle.workflowId}/rehearsal/1`);
  expect((await first.describe()).status.name).toBe('FAILED');
  const { types, failedAttempts } = await scheduled(first);
  expect(types).toEqual(['rehearsalPrepare', 'stage', 'cleanup', 'publish', 'rehearsalDrop', 'rehearsalFinish']);
  expect(failedAttempts.publish).toBe(3);
  expect(await first.query(rehearsalProgressQuery)).toMatchObject({
    phase: 'failed',
    steps: [
      { step: 'restore', state: 'done' },
      { step: 'stage', state: 'done' },
      { step: 'cleanup', state: 'done' },
      { step: 'publish', state: 'failed' },
      { step: 'validate', state: 'waiting' },
      { step: 'rollback', state: 'waiting' },
    ],
  });

  // On-call fixes Production; the retry takes a fresh backup and runs a new child, which passes.
  await rows(prod, 'DROP TRIGGER projects_frozen ON projects');
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'trigger dropped' }] });
  const gate = await waitFor(handle, atGate('cutover'), 180000);
  expect(gate.rehearsal).toMatchObject({ ok: true, rollbackProven: true, failed: null });
  const second = h.env.client.workflow.getHandle(`${handle.workflowId}/rehearsal/2`);
  expect((await second.describe()).status.name).toBe('COMPLETED');
  expect((await second.result()) as RehearsalReport).toMatchObject({ ok: true, rehearsalHash: gate.rehearsal!.rehearsalHash });
  expect(gate.steps.filter((s) => s.step === 'rehearsal').map((s) => s.outcome)).toEqual([
    'started',
    'failed',
    'retried',
    'started',
    'completed',
  ]);
  expect(await scratchLeft(prod, gate.runKey)).toEqual([]);
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'abort', by: 'oncall', reason: 'test ends' }] }).catch(() => undefined);
  await handle.cancel().catch(() => undefined);
}, 300000);

test('while the child runs the run names it; cancelling the run cancels the child, which drops its scratch database', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  process.env.CUTOVER_TEST_SLOW_STAGE_END = '600'; // the child's stage sleeps until cancelled
  try {
    const handle = await startRun(h.env, plan('rhc-cancel'));
    const atPlan = await waitFor(handle, atGate('plan'));
    await handle.signal(approveSignal, { gate: 'plan', approver: 'bob', ...acknowledging(atPlan) });
    const childId = `${handle.workflowId}/rehearsal/1`;
    const running: StatusView = await waitFor(handle, (s) => s.child === childId, 120000);
    expect(running.phase).toBe('rehearsal');
    // The UI's current details of the run say where the rehearsal's sub-steps are.
    const details = ((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';
    expect(details).toContain(`The rehearsal runs in child workflow \`${childId}\``);
    const child = h.env.client.workflow.getHandle(childId);
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline && (await child.query(rehearsalProgressQuery)).phase !== 'stage')
      await new Promise((r) => setTimeout(r, 200));
    expect((await child.query(rehearsalProgressQuery)).steps.slice(0, 2)).toMatchObject([
      { step: 'restore', state: 'done' },
      { step: 'stage', state: 'running' },
    ]);
    expect(await scratchLeft(prod, running.runKey)).toHaveLength(1);
    // `cutover status --watch` reads the child's pending activity through the run: the stage within the rehearsal.
    let live: StepProgress[] = [];
    for (const until = Date.now() + 60000; Date.now() < until && !live.length; await new Promise((r) => setTimeout(r, 500)))
      live = await liveSteps(h.env.client, handle);
    expect(live.map((p) => [p.within, p.step])).toEqual([['rehearsal', 'stage']]);
    await handle.cancel();
    await runResult(handle).catch(() => undefined);
    expect((await child.describe()).status.name).toBe('CANCELLED');
    expect(await scratchLeft(prod, running.runKey)).toEqual([]);
  } finally {
    delete process.env.CUTOVER_TEST_SLOW_STAGE_END;
  }
}, 300000);

test('terminating the run cancels its child (parent-close policy REQUEST_CANCEL), which drops its scratch database', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  process.env.CUTOVER_TEST_SLOW_STAGE_END = '600';
  try {
    const handle = await startRun(h.env, plan('rhc-terminate'));
    const atPlan = await waitFor(handle, atGate('plan'));
    await handle.signal(approveSignal, { gate: 'plan', approver: 'bob', ...acknowledging(atPlan) });
    const childId = `${handle.workflowId}/rehearsal/1`;
    const { runKey } = await waitFor(handle, (s) => s.child === childId, 120000);
    const child = h.env.client.workflow.getHandle(childId);
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline && (await child.query(rehearsalProgressQuery)).phase !== 'stage')
      await new Promise((r) => setTimeout(r, 200));
    expect(await scratchLeft(prod, runKey)).toHaveLength(1);
    await handle.terminate('test: a terminated run');
    await child.result().catch(() => undefined);
    expect((await child.describe()).status.name).toBe('CANCELLED');
    expect(await scratchLeft(prod, runKey)).toEqual([]);
  } finally {
    delete process.env.CUTOVER_TEST_SLOW_STAGE_END;
  }
}, 300000);

test('started directly (not as a child of a run) it refuses before touching any database', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const wf = h.env.client.workflow;
  const input = { plan: plan('rhc-direct'), runKey: 'directkey', workflowId: 'cutover-some-run', runId: 'r' };
  const err = await wf
    .execute('cutoverRehearsal', { taskQueue: TASK_QUEUE, workflowId: 'cutover-some-run/rehearsal/1', args: [input] })
    .then(
      () => null,
      (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message),
    );
  expect(err).toMatch(/cutoverRehearsal runs only as the child of the run it rehearses \(started by no workflow/);
  expect(await scratchLeft(prod, 'directkey')).toEqual([]);
}, 60000);
