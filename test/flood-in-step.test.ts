// A flood of signals while a step runs must not end the run either. Here publish is held a few
// seconds per table (a test hook, as a large publish would take) and, while it runs, refused
// signals add up to more history than the server allows one run: the run continues as new inside
// the step, the publish activity finishes detached instead of being thrown away, the next run's
// publish waits for it (the step lock) and takes its result over (one worker). The run completes with
// every selected row in Production exactly once, counted by our own SQL. The same holds in a
// rollback: a flood while the surgical rollback's transaction is open, or while gate restore waits
// and then while the restore's transaction is open, and Production ends as it was before the run.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { approveSignal, resumeUpdate, statusQuery, workflowIdFor, type StatusView } from '../common/temporal';
import { acrossContinueAsNew } from '../client/across-continue';
import { LOCK_APP_NAME, stepLockTally } from '../activities/db/step-lock';
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

/** Refused 30 KB signals, twice what the server allows one run's history in all; returns how many. */
async function flood(handle: Handle, gate: 'plan' | 'cutover' | 'restore'): Promise<number> {
  const big = 'f'.repeat(30 * 1024);
  const count = Math.ceil((2 * ERROR_LIMIT) / big.length);
  // Paced to what the worker continues as new in time (test/helpers/flood.ts): under 750 KB per run.
  await pacedFlood(handle, count, ERROR_LIMIT, (i) => handle.signal(approveSignal, { gate, approver: `mallory${i}`, comment: big }));
  return count;
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

function continuedInside(result: StatusView, step: string): boolean {
  return result.steps.some(
    (s) => s.step === step && s.outcome === 'retried' && !!s.detail?.includes('continued as new while this step ran'),
  );
}

test('signals flooding in while publish runs: the run continues as new inside the step, publish commits once, the run completes', async () => {
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

  // 30 KB refused signals while publish runs, until twice what the server allows one run's history.
  const query = () => acrossContinueAsNew(handle, () => handle.query(statusQuery));
  const sent = await flood(handle, 'cutover');
  const during = await query();
  expect(during.phase).toBe('publish'); // the whole flood reached the run while publish ran

  const result = (await runResult(handle)) as StatusView;
  delete process.env.CUTOVER_TEST_SLOW_TABLES;
  expect(result.status).toBe('completed');
  expect(result.refusedCount).toBe(sent);
  expect(result.continuedAsNew).toBeGreaterThanOrEqual(2);
  // It continued inside publish; publish ran again after, and completed once.
  const publish = result.steps.filter((s) => s.step === 'publish');
  expect(continuedInside(result, 'publish')).toBe(true);
  expect(publish.filter((s) => s.outcome === 'completed')).toHaveLength(1);
  expect(publish.filter((s) => s.outcome === 'failed')).toHaveLength(0);
  expect((await h.env.client.workflow.getHandle(workflowIdFor('flood-in-step'), firstRunId).describe()).status.name).toBe(
    'CONTINUED_AS_NEW',
  );

  // The first publish finished detached (not thrown away) and a later run's publish waited for it.
  expect(stepLockTally.detached).toBeGreaterThanOrEqual(1);
  expect(stepLockTally.waited).toBeGreaterThanOrEqual(1);
  // ... and took its result over (one worker here): publish was not even asked again.
  expect(stepLockTally.handedOver).toBeGreaterThanOrEqual(1);
  // Every selected row once (a second publish would have doubled them, or been refused by the keys).
  expect(await saasCounts(prod)).toEqual(plusMoved(before, expected));
  const published = await rows<{ n: string }>(
    prod,
    `SELECT count(*)::text AS n FROM cutover.run WHERE run_key = $1 AND published_at IS NOT NULL`,
    [result.runKey],
  );
  expect(published[0].n).toBe('1');
  expect(result.evidence?.validation?.ok).toBe(true);
  // No step lock is left behind on the Pilot (attempts of closed runs that waited for the lock
  // leave once their next heartbeat tells them their run is gone).
  const locks = () => rows(h.pilot, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [LOCK_APP_NAME]);
  for (let i = 0; i < 60 && (await locks()).length > 0; i++) await sleep(500);
  expect(await locks()).toEqual([]);
  await record(h.env.client.workflow.getHandle(workflowIdFor('flood-in-step'), firstRunId), 'continue-in-step');
  await record(handle, 'publish.continued'); // the last run: publish run again, its result handed over
}, 600000);

test('a flood while the surgical rollback runs: the rollback continues in the next run, commits once, Production is as before the run', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA + checker.sql);
  const before = await dump(prod);
  process.env.CUTOVER_CHAOS_DIR = chaosDir;
  process.env.CUTOVER_CHAOS_POINTS = 'flood-rollback@rollback.before-commit';
  const handle = await pausedAfterPublish('flood-rollback');
  expect(await dump(prod)).not.toEqual(before);
  const firstRunId = (await handle.describe()).runId;
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'project seven must not ship' }] });
  const marker = await heldAt('flood-rollback', 'rollback.before-commit');
  const tally = { ...stepLockTally };
  const sent = await flood(handle, 'cutover').finally(() => writeFileSync(`${marker}.release`, ''));
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('rolled-back');
  expect(result.refusedCount).toBe(sent);
  expect(result.continuedAsNew).toBeGreaterThanOrEqual(1);
  expect(continuedInside(result, 'rollback')).toBe(true);
  expect(result.steps.filter((s) => s.step === 'rollback' && s.outcome === 'completed')).toHaveLength(1);
  expect(stepLockTally.detached).toBeGreaterThan(tally.detached);
  expect(await dump(prod)).toEqual(before);
  await record(h.env.client.workflow.getHandle(workflowIdFor('flood-rollback'), firstRunId), 'continue-in-rollback');
}, 600000);

test('a flood while gate restore waits and while the restore runs: the restore continues in the next run, Production is as before the run', async () => {
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
    let sent = await flood(handle, 'restore');
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
    sent += await flood(handle, 'restore').finally(() => writeFileSync(`${marker}.release`, ''));
    const result = (await runResult(handle)) as StatusView;
    expect(result.status).toBe('rolled-back');
    expect(result.refusedCount).toBe(sent);
    expect(continuedInside(result, 'restore')).toBe(true);
    expect(result.steps.filter((s) => s.step === 'restore' && s.outcome === 'completed')).toHaveLength(1);
    expect(result.approvals.filter((a) => a.gate === 'restore').map((a) => a.approver)).toEqual(['bob', 'carol']);
    expect(await dump(prod)).toEqual(before);
    await record(h.env.client.workflow.getHandle(workflowIdFor('flood-restore'), firstRunId), 'continue-at-restore-gate');
    await record(handle, 'restore.continued'); // the last run, resumed inside the rollback (a continued run: no plan recorded)
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}, 600000);
