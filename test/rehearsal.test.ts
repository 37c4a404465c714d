// Rehearsal (rehearsal.mode: scratch) through the real workflow on real PostgreSQL: the run's
// target backup restored into a scratch database, the whole data path and its rollback run there,
// the report shown at the cutover gate; Production untouched by it (the test's own SQL), no scratch
// database left; an approval naming a stale rehearsal hash refused, the right one accepted. A
// rehearsal whose publish hits a conflict pauses the run with RehearsalError and its report.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { approveSignal, approveUpdate, resumeUpdate, type StatusView } from '../common/temporal';
import type { DryRunReport, RehearsalReport } from '../common/results';
import { approveRefusal } from '../workflows/decisions';
import { RunState } from '../workflows/state';
import { validatePlan } from '../plan/validate';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { atGate, paused, record, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';

const h = useHarness('cutover_rh', SAAS_SCHEMA + PILOT_DATA);
/** Every table's content, order-independent, and the sequence, by the test's own SQL. */
const dump = async (url: string) =>
  rows(
    url,
    `SELECT 'accounts' AS t, string_agg(x::text, ';' ORDER BY x::text) AS v FROM accounts x
    UNION ALL SELECT 'users', string_agg(x::text, ';' ORDER BY x::text) FROM users x
    UNION ALL SELECT 'projects', string_agg(x::text, ';' ORDER BY x::text) FROM projects x
    UNION ALL SELECT 'events', string_agg(x::text, ';' ORDER BY x::text) FROM events x
    UNION ALL SELECT 'events_event_id_seq', last_value::text FROM events_event_id_seq`,
  );
/** This run's scratch database, if still there (other runs on the shared server have their own). */
const scratchLeft = async (url: string, runKey: string) =>
  rows(url, 'SELECT datname FROM pg_database WHERE datname = $1', [`cutover_rehearsal_${runKey}`]);
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: { cause?: { message?: string } }) => e.cause?.message ?? String(e),
  );
const plan = (id: string) =>
  saasPlan(id, {
    approvals: { approvers: ['bob'], required: 1, timeout: '1h' },
    backup: { store: `file://${mkdtempSync(path.join(tmpdir(), 'cutover-rh-'))}` },
    rehearsal: { mode: 'scratch' },
  });

test('the rehearsal report reaches the cutover gate: counts as the dry run, rollback proven, Production untouched, scratch database dropped; a stale hash is refused', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const before = await dump(prod);
  const handle = await startRun(h.env, plan('rh-ok'));
  await waitFor(handle, atGate('plan'));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  const view = await waitFor(handle, atGate('cutover'), 180000);

  expect(view.rehearsal).toMatchObject({ ok: true, rollbackProven: true, failed: null });
  const report = (await handle.query('report')) as { rehearsal: RehearsalReport; dryRun: DryRunReport };
  const r = report.rehearsal;
  expect(r.rehearsalHash).toBe(view.rehearsal!.rehearsalHash);
  expect(r.backup.sha256).toBe(view.backups!.find((b) => b.kind === 'target')!.sha256);
  // Counts per table and reason equal the dry run's.
  const byTable = (t: string) => r.tables.find((x) => x.table === t)!;
  for (const d of report.dryRun.tables) {
    expect([d.table, byTable(d.table).moved, byTable(d.table).merged, byTable(d.table).leftBehindByReason]).toEqual([
      d.table,
      d.toMove,
      d.merged,
      d.leftBehind,
    ]);
  }
  expect(r.tables.reduce((a, t) => a + t.moved, 0)).toBeGreaterThan(0);
  expect(r.validation).toEqual({ ok: true, problems: [] });
  expect(r.rollback!.proven).toBe(true);
  expect(r.rollback!.tables.every((t) => t.equal && t.checksumAfterRollback === t.checksumBeforePublish)).toBe(true);
  expect(r.rollback!.tables.reduce((a, t) => a + t.deleted, 0)).toBe(r.tables.reduce((a, t) => a + t.moved, 0));
  expect(r.timings.map((t) => t.step)).toEqual(['restore', 'stage', 'cleanup', 'publish', 'validate', 'rollback']);
  expect(view.steps.filter((s) => s.step === 'rehearsal').map((s) => s.outcome)).toEqual(['started', 'completed']);
  // Production untouched by the rehearsal; nothing of it left on the server.
  expect(await dump(prod)).toEqual(before);
  expect(await scratchLeft(prod, view.runKey)).toEqual([]);
  // Only the run's own staging, made by the dry run (what gate plan approved); nothing of the rehearsal's.
  expect(await rows(prod, "SELECT nspname::text AS s FROM pg_namespace WHERE nspname LIKE 'cutover\\_stage\\_%'")).toEqual([
    { s: `cutover_stage_${view.runKey}` },
  ]);

  expect(
    await refusal(handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob', rehearsalHash: 'f'.repeat(64) }] })),
  ).toMatch(/stale rehearsal hash/);
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob', rehearsalHash: r.rehearsalHash }] });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  // The real run moved what the rehearsal moved.
  const moved = Number((await rows<{ n: string }>(prod, 'SELECT count(*)::text AS n FROM accounts'))[0].n) - 2;
  expect(moved).toBe(byTable('public.accounts').moved);
  await record(handle, 'rehearsal');
  await record(h.env.client.workflow.getHandle(`${handle.workflowId}/rehearsal/1`), 'rehearsal-child');
}, 300000);

test('a rehearsal whose publish hits a conflict pauses the run with RehearsalError; Production untouched, no scratch database left', async () => {
  // Production already holds account 1, which the plan moves with ids: keep.
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA + "INSERT INTO accounts VALUES (1, 'Prod Account 1', 'pro', false);");
  const before = await dump(prod);
  const handle = await startRun(h.env, plan('rh-conflict'));
  await waitFor(handle, atGate('plan'));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob', acknowledge: ['collisions:public.accounts'] });
  const view = await waitFor(handle, paused, 180000);
  expect(view.phase).toBe('rehearsal');
  expect(view.error?.type).toBe('RehearsalError');
  expect(view.error?.message).toMatch(/rehearsal failed at publish \(ConflictError\)/);
  expect(view.rehearsal).toMatchObject({ ok: false, failed: 'publish: ConflictError' });
  const report = (await handle.query('report')) as { rehearsal: RehearsalReport };
  expect(report.rehearsal.timings.map((t) => t.step)).toEqual(['restore', 'stage', 'cleanup', 'publish']);
  expect(await dump(prod)).toEqual(before);
  expect(await scratchLeft(prod, view.runKey)).toEqual([]);
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'abort', by: 'oncall', reason: 'the conflict needs a decision' }] });
  expect(((await runResult(handle)) as StatusView).status).toBe('aborted');
}, 300000);

test('a rehearsal hash on a run without a rehearsal is refused', () => {
  const p = validatePlan(saasPlan('rh-none', { approvals: { approvers: ['bob'], required: 1 } }));
  const s = new RunState(p, 'h', 'alice', { workflowId: 'w', runId: 'r', runKey: 'k' });
  s.gate = 'cutover';
  expect(approveRefusal(s, { gate: 'cutover', approver: 'bob', rehearsalHash: 'x' })).toMatch(/no rehearsal report/);
  expect(approveRefusal(s, { gate: 'cutover', approver: 'bob' })).toBeNull();
});

test('a rehearsal cancelled mid-way (the workflow is cancelled) drops its scratch database', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  // The rehearsal's stage (its first attempt) sleeps in PostgreSQL far longer than the test waits:
  // only the cancellation (delivered with a heartbeat, throttled up to 30 s) can end it in time.
  process.env.CUTOVER_TEST_SLOW_STAGE_END = '600';
  try {
    const handle = await startRun(h.env, plan('rh-cancel'));
    await waitFor(handle, atGate('plan'));
    await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
    const { runKey } = await waitFor(handle, (s) => s.phase === 'rehearsal', 120000);
    const deadline = Date.now() + 60000;
    while (
      Date.now() < deadline &&
      (
        await rows(prod, "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND datname = $1", [
          `cutover_rehearsal_${runKey}`,
        ])
      ).length === 0
    ) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await scratchLeft(prod, runKey)).toHaveLength(1);
    await handle.cancel();
    await handle.result().catch(() => undefined);
    const gone = Date.now() + 100000;
    while (Date.now() < gone && (await scratchLeft(prod, runKey)).length > 0) await new Promise((r) => setTimeout(r, 200));
    expect(await scratchLeft(prod, runKey)).toEqual([]);
  } finally {
    delete process.env.CUTOVER_TEST_SLOW_STAGE_END;
  }
}, 300000);
