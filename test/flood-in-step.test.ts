// A flood of signals while a step runs must not end the run either. The run never continues as new
// while a step runs (workflows/continue.ts): the server bounds what a flood adds meanwhile, recording
// at most `history.maximumSignalsPerExecution` signals per run and refusing the rest to their sender
// (common/history-budget.ts), and a decision sent by update while a step runs is answered by the
// validator without writing history. Here publish is held a few seconds per table (a test hook, as a
// large publish would take) and, while it runs, 30 KB signals are sent until twice what the server
// allows one run's history: the run's history stays under the limit, publish runs once, the run
// continues as new at the next safe point (between steps) and completes with every selected row in
// Production exactly once, counted by our own SQL. The same holds in a rollback: a flood while the
// surgical rollback's transaction is open, or while gate restore waits (the run continues there)
// and then while the restore's transaction is open, and Production ends as it was before the run.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { approveSignal, approveUpdate, resumeUpdate, statusQuery, workflowIdFor, type StatusView } from '../common/temporal';
import { acrossContinueAsNew, signalBudgetSpent } from '../client/across-continue';
import { LOCK_APP_NAME } from '../activities/db/step-lock';
import { SIGNALS_PER_RUN } from '../common/history-budget';
import { pacedFlood } from './helpers/flood';
import { useHarness } from './helpers/harness';
import { checkerRole, rows } from './helpers/pg';
import { atGate, paused, record, startRun, waitFor } from './helpers/run';
import { expectedMoves, PILOT_DATA, plusMoved, PRODUCTION_DATA, SAAS_SCHEMA, SAAS_TABLES, saasCounts, saasPlan } from './helpers/saas';
import { runResult } from './helpers/run-result';

const ERROR_LIMIT = 1_500_000;
const h = useHarness('cutover_flood_step', SAAS_SCHEMA + PILOT_DATA, {
  // Continue-as-new suggested at 150 KB of history; a run past 1.5 MB is terminated by the server.
  dynamicConfig: { 'limit.historySize.suggestContinueAsNew': 150_000, 'limit.historySize.error': ERROR_LIMIT },
});

// Chaos points hold an activity at a named point until released (activities/db/fault.ts).
const chaosDir = mkdtempSync(path.join(tmpdir(), 'cutover-flood-'));
afterAll(() => {
  delete process.env.CUTOVER_TEST_SLOW_TABLES;
  delete process.env.CUTOVER_CHAOS_POINTS;
  delete process.env.CUTOVER_CHAOS_DIR;
  rmSync(chaosDir, { recursive: true, force: true });
});

type Handle = Awaited<ReturnType<typeof startRun>>;

const BIG = 'f'.repeat(30 * 1024);
/** Twice what the server allows one run's history, in 30 KB signals. */
const FLOOD = Math.ceil((2 * ERROR_LIMIT) / BIG.length);

/** Refused 30 KB signals at a gate (the run continues as new there: every one is delivered); returns how many. */
async function floodAtGate(handle: Handle, gate: 'plan' | 'cutover' | 'restore'): Promise<number> {
  // Paced to what the worker continues as new in time (test/helpers/flood.ts): under 750 KB per run.
  await pacedFlood(handle, FLOOD, ERROR_LIMIT, (i) => handle.signal(approveSignal, { gate, approver: `mallory${i}`, comment: BIG }));
  return FLOOD;
}

/**
 * The same flood while a step runs: the run does not continue, so the server records signals up to
 * its per-run budget and refuses the rest to the sender. Returns what was delivered and refused,
 * and the run's largest history meanwhile.
 */
async function floodInStep(
  handle: Handle,
  gate: 'cutover' | 'restore',
): Promise<{ delivered: number; refused: number; runId: string; maxSize: number }> {
  const { runId } = await handle.describe();
  let delivered = 0;
  let refused = 0;
  let maxSize = 0;
  for (let i = 0; i < FLOOD; i++) {
    try {
      await handle.signal(approveSignal, { gate, approver: `mallory${i}`, comment: BIG });
      delivered++;
    } catch (e) {
      if (!signalBudgetSpent(e)) throw e;
      refused++;
    }
    if (i % 10 === 0) maxSize = Math.max(maxSize, (await handle.describe()).historySize ?? 0);
  }
  const d = await handle.describe();
  expect(d.runId).toBe(runId); // no continue-as-new inside the step
  expect(d.status.name).toBe('RUNNING');
  return { delivered, refused, runId, maxSize: Math.max(maxSize, d.historySize ?? 0) };
}

/** A decision by update while a step runs: answered by the validator, no event written. */
async function updateWritesNothing(handle: Handle): Promise<void> {
  const before = (await handle.describe()).historyLength;
  await expect(handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] })).rejects.toMatchObject({
    cause: { message: expect.stringContaining('a step is running') },
  });
  expect((await handle.describe()).historyLength).toBe(before);
}

/** Wait until a run of `planId` holds at chaos point `point`. */
async function heldAt(planId: string, point: string): Promise<string> {
  const marker = path.join(chaosDir, `${planId}@${point}`);
  for (let i = 0; i < 1200 && !existsSync(marker); i++) await sleep(100);
  expect(existsSync(marker)).toBe(true);
  return marker;
}

/** Every table's content, order-independent, by the test's own SQL. */
async function dump(url: string): Promise<unknown> {
  return rows(
    url,
    SAAS_TABLES.map((t) => `SELECT '${t}' AS t, string_agg(x::text, ';' ORDER BY x::text) AS v FROM ${t} x`).join(' UNION ALL '),
  );
}

const CHECK = { name: 'no-project-seven', sql: "SELECT project_id FROM projects WHERE name = 'Project 7'" };
// Checks run as a role that can only read (accessCheckRole), never as the tests' superuser.
const checker = checkerRole('cutover_fl');
afterAll(() => checker.drop());
const APPROVERS = { approvers: ['bob', 'carol', 'dave'], required: 2, separationOfDuties: true, timeout: '1h' };

/** A run paused after publish (an access check finds a row it forbids): rollback is what on-call may do. */
async function pausedAfterPublish(id: string, extra: Record<string, unknown> = {}): Promise<Handle> {
  const handle = await startRun(
    h.env,
    saasPlan(id, { approvals: APPROVERS, accessChecks: [CHECK], accessCheckRole: checker.name, ...extra }),
  );
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate), 120000);
    for (const approver of ['bob', 'carol']) await handle.signal(approveSignal, { gate, approver });
  }
  const view = await waitFor(handle, paused, 120000);
  expect([view.phase, view.error?.type]).toEqual(['access-checks', 'AccessCheckError']);
  return handle;
}

/** The step ran once: started and completed, never retried or failed. */
function ranOnce(result: StatusView, step: string): void {
  expect(result.steps.filter((s) => s.step === step).map((s) => s.outcome)).toEqual(['started', 'completed']);
}

test('signals flooding in while publish runs: the server refuses what one run may not hold, publish runs once, the run continues after it and completes', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA + checker.sql);
  const before = await saasCounts(prod);
  const expected = await expectedMoves(h.pilot);
  process.env.CUTOVER_TEST_SLOW_TABLES = '6:publish';

  const handle = await startRun(h.env, saasPlan('flood-in-step'));
  const firstRunId = (await handle.describe()).runId;
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate), 120000);
    await handle.signal(approveSignal, { gate, approver: 'bob' });
    await handle.signal(approveSignal, { gate, approver: 'carol' });
  }
  await waitFor(handle, (s) => s.status === 'running' && s.phase === 'publish', 120000);

  // 30 KB signals while publish runs, twice what the server allows one run's history.
  const flood = await floodInStep(handle, 'cutover');
  // A decision sent by update meanwhile is answered, and writes nothing.
  await updateWritesNothing(handle);
  const during = await handle.query(statusQuery);
  expect(during.phase).toBe('publish'); // the whole flood reached the server while publish ran
  expect(flood.refused).toBeGreaterThan(0);
  expect(flood.delivered).toBeLessThanOrEqual(SIGNALS_PER_RUN);
  // The run's history stayed within its bound: the signals one run may hold, well under the limit.
  expect(flood.maxSize).toBeLessThan(ERROR_LIMIT);

  const result = (await runResult(handle)) as StatusView;
  delete process.env.CUTOVER_TEST_SLOW_TABLES;
  expect(result.status).toBe('completed');
  expect(result.refusedCount).toBe(flood.delivered); // every delivered signal recorded as refused
  expect(result.continuedAsNew).toBeGreaterThanOrEqual(1); // at the next safe point, after publish
  ranOnce(result, 'publish');
  const first = await h.env.client.workflow.getHandle(workflowIdFor('flood-in-step'), firstRunId).describe();
  expect(first.status.name).toBe('CONTINUED_AS_NEW');
  expect(first.historySize ?? 0).toBeLessThan(ERROR_LIMIT);

  // Every selected row once.
  expect(await saasCounts(prod)).toEqual(plusMoved(before, expected));
  const published = await rows<{ n: string }>(
    prod,
    `SELECT count(*)::text AS n FROM cutover.run WHERE run_key = $1 AND published_at IS NOT NULL`,
    [result.runKey],
  );
  expect(published[0].n).toBe('1');
  expect(result.evidence?.validation?.ok).toBe(true);
  // No step lock is left behind on the Pilot.
  const locks = () => rows(h.pilot, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [LOCK_APP_NAME]);
  for (let i = 0; i < 60 && (await locks()).length > 0; i++) await sleep(500);
  expect(await locks()).toEqual([]);
  await record(h.env.client.workflow.getHandle(workflowIdFor('flood-in-step'), firstRunId), 'flood-in-step');
  await record(handle, 'after-step.continued'); // the last run: continued after publish
}, 600000);

test('a flood while the surgical rollback runs: the server refuses what one run may not hold, the rollback commits once, Production is as before the run', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA + checker.sql);
  const before = await dump(prod);
  process.env.CUTOVER_CHAOS_DIR = chaosDir;
  process.env.CUTOVER_CHAOS_POINTS = 'flood-rollback@rollback.before-commit';
  const handle = await pausedAfterPublish('flood-rollback');
  expect(await dump(prod)).not.toEqual(before);
  const firstRunId = (await handle.describe()).runId;
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'project seven must not ship' }] });
  const marker = await heldAt('flood-rollback', 'rollback.before-commit');
  const flood = await floodInStep(handle, 'cutover').finally(() => writeFileSync(`${marker}.release`, ''));
  expect(flood.refused).toBeGreaterThan(0);
  expect(flood.maxSize).toBeLessThan(ERROR_LIMIT);
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('rolled-back');
  expect(result.refusedCount).toBe(flood.delivered);
  const rollback = result.steps.filter((s) => s.step === 'rollback').map((s) => s.outcome);
  expect(rollback.filter((o) => o === 'completed')).toHaveLength(1);
  expect(rollback.filter((o) => o === 'retried' || o === 'failed')).toEqual([]);
  expect(await dump(prod)).toEqual(before);
  await record(h.env.client.workflow.getHandle(workflowIdFor('flood-rollback'), firstRunId), 'flood-in-rollback');
}, 600000);

test('a flood while gate restore waits (the run continues as new there) and while the restore runs (the server refuses what one run may not hold): Production is as before the run', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA + checker.sql);
  const before = await dump(prod);
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-flood-store-'));
  process.env.CUTOVER_CHAOS_DIR = chaosDir;
  process.env.CUTOVER_CHAOS_POINTS = 'flood-restore@restore.before-commit';
  try {
    const handle = await pausedAfterPublish('flood-restore', { backup: { store: `file://${store}` } });
    const firstRunId = (await handle.describe()).runId;
    await handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'restore it', mode: 'restore' }] });
    const atRestore = await waitFor(handle, atGate('restore'), 120000);
    const sent = await floodAtGate(handle, 'restore');
    // Still at the gate, with the same preview: the continued run did not measure again.
    const still = await waitFor(
      handle,
      (v) => v.refusedCount === sent && (v.continuedAsNew ?? 0) > (atRestore.continuedAsNew ?? 0),
      120000,
    );
    expect([still.status, still.gate]).toEqual(['awaiting-approval', 'restore']);
    expect(still.restorePreview?.measuredAt).toBe(atRestore.restorePreview?.measuredAt);
    expect(still.steps.filter((s) => s.step === 'restore-preview' && s.outcome === 'started')).toHaveLength(1);
    for (const approver of ['bob', 'carol'])
      await acrossContinueAsNew(handle, () => handle.signal(approveSignal, { gate: 'restore', approver }));
    const marker = await heldAt('flood-restore', 'restore.before-commit');
    const inStep = await floodInStep(handle, 'restore').finally(() => writeFileSync(`${marker}.release`, ''));
    expect(inStep.refused).toBeGreaterThan(0);
    expect(inStep.maxSize).toBeLessThan(ERROR_LIMIT);
    const result = (await runResult(handle)) as StatusView;
    expect(result.status).toBe('rolled-back');
    expect(result.refusedCount).toBe(sent + inStep.delivered);
    expect(result.steps.filter((s) => s.step === 'restore').map((s) => s.outcome)).toEqual(['started', 'completed']);
    expect(result.approvals.filter((a) => a.gate === 'restore').map((a) => a.approver)).toEqual(['bob', 'carol']);
    expect(await dump(prod)).toEqual(before);
    await record(h.env.client.workflow.getHandle(workflowIdFor('flood-restore'), firstRunId), 'continue-at-restore-gate');
    await record(handle, 'restore.continued'); // the last run: approved at gate restore, the restore run in it (a continued run: no plan recorded)
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}, 600000);
