// The step table's safety net through the real workflow: an access check that fails after publish
// pauses the run with its rows; abort is refused once publish has committed; rollback brings
// Production back to its pre-run contents (checked by the test's own SQL); roll-forward re-runs
// from a chosen step without duplicating anything.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { approveSignal, resumeUpdate, type StatusView } from '../common/temporal';
import { useHarness } from './helpers/harness';
import { checkerRole, rows } from './helpers/pg';
import { EXPECTED, PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { atGate, paused, record, startRun, waitFor } from './helpers/run';
import { readEvidence, readStatus } from '../client/commands/read-run';
import { runResult } from './helpers/run-result';

const h = useHarness('cutover_sn', SAAS_SCHEMA + PILOT_DATA);
const count = async (url: string, sql: string) =>
  Number((await rows<{ n: string }>(url, `SELECT count(*)::text AS n FROM (${sql}) s`))[0].n);
/** Every table's content, order-independent, by the test's own SQL. */
const dump = async (url: string) =>
  rows(
    url,
    `SELECT 'accounts' AS t, string_agg(x::text, ';' ORDER BY x::text) AS v FROM accounts x
    UNION ALL SELECT 'users', string_agg(x::text, ';' ORDER BY x::text) FROM users x
    UNION ALL SELECT 'projects', string_agg(x::text, ';' ORDER BY x::text) FROM projects x
    UNION ALL SELECT 'events', string_agg(x::text, ';' ORDER BY x::text) FROM events x`,
  );

/** The reason an update was refused (the SDK wraps it as the failure's cause). */
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: { cause?: { message?: string } }) => e.cause?.message ?? String(e),
  );

// Fails while Production holds a project named 'Project 7' (a Pilot row this run moves) that its
// owners have not allowed (allow_list is Production's own table, not in the plan).
// The project's name is not personal: the check shows it (show), next to its key.
const CHECK = {
  name: 'no-project-seven',
  sql: "SELECT project_id, name FROM projects p WHERE name = 'Project 7' AND NOT EXISTS (SELECT 1 FROM allow_list a WHERE a.name = p.name)",
  show: ['project_id', 'name'],
};
// Checks run as a role that can only read (accessCheckRole), never as the tests' superuser.
const checker = checkerRole('cutover_sn');
afterAll(() => checker.drop());
const PRODUCTION = SAAS_SCHEMA + PRODUCTION_DATA + 'CREATE TABLE allow_list (name text PRIMARY KEY);' + checker.sql;

async function pausedAfterPublish(id: string, extra: Record<string, unknown> = {}) {
  const handle = await startRun(
    h.env,
    saasPlan(id, {
      approvals: { approvers: ['bob'], required: 1, timeout: '1h' },
      accessChecks: [CHECK],
      accessCheckRole: checker.name,
      ...extra,
    }),
  );
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate));
    await handle.signal(approveSignal, { gate, approver: 'bob' });
  }
  const view = await waitFor(handle, paused, 90000);
  expect(view.phase).toBe('access-checks');
  expect(view.error?.type).toBe('AccessCheckError');
  expect(view.error?.message).toContain('no-project-seven');
  expect(view.error?.message).toContain('Project 7');
  return { handle, view };
}

test('a verified file:// backup, an access check failing after publish pauses; abort is refused; rollback restores Production exactly', async () => {
  const prod = await h.production(PRODUCTION);
  const before = await dump(prod);
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-sn-'));
  const { handle, view } = await pausedAfterPublish('sn-rollback', { backup: { store: `file://${store}` } });
  // The backup was taken and verified before anything was written; status says where it is.
  expect(view.backups?.map((b) => b.kind)).toEqual(['target', 'source']);
  for (const b of view.backups!) {
    const file = fileURLToPath(b.location);
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(b.sha256);
    expect(b.verified).toBe(true);
  }
  expect(view.actions).toEqual(['retry', 'rollback', 'roll-forward']);
  expect(await count(prod, 'SELECT 1 FROM accounts')).toBe(2 + (await count(h.pilot, EXPECTED.accounts)));

  expect(await refusal(handle.executeUpdate(resumeUpdate, { args: [{ action: 'abort', by: 'oncall', reason: 'give up' }] }))).toMatch(
    /publish has committed/,
  );
  await handle.executeUpdate(resumeUpdate, {
    args: [{ action: 'rollback', by: 'oncall', reason: 'project seven must not reach production' }],
  });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('rolled-back');
  expect(await dump(prod)).toEqual(before);
  const report = (await handle.query('report')) as {
    rollback: { tables: { table: string; deleted: number; equal: boolean }[] };
    backups: { backups: { sha256: string; location: string }[] };
  };
  expect(report.backups.backups.map((b) => b.sha256)).toEqual(view.backups!.map((b) => b.sha256));
  expect(report.rollback.tables.every((t) => t.equal)).toBe(true);
  expect(report.rollback.tables.reduce((a, t) => a + t.deleted, 0)).toBeGreaterThan(0);
  expect(await count(prod, "SELECT 1 FROM pg_namespace WHERE nspname LIKE 'cutover\\_stage\\_%'")).toBe(0);
  await record(handle, 'rollback');

  // A closed run is read from its result: no worker (and no query) needed, earlier runs by run id.
  const noQueries = Object.assign(Object.create(handle), { query: () => Promise.reject(new Error('no worker may be asked')) });
  const closed = await readStatus(noQueries, handle.workflowId);
  expect(closed.status).toBe('rolled-back');
  expect((await readEvidence(noQueries, handle.workflowId)).rollback).toEqual(report.rollback);
}, 180000);

test('roll-forward from validate after the cause is fixed completes without duplicating a row', async () => {
  const prod = await h.production(PRODUCTION);
  const { handle } = await pausedAfterPublish('sn-forward');
  expect(
    await refusal(
      handle.executeUpdate(resumeUpdate, { args: [{ action: 'roll-forward', by: 'oncall', reason: 'x', fromStep: 'finalize' }] }),
    ),
  ).toMatch(/cannot roll forward from "finalize"/);
  // No backup in this plan: rollback by restore is not on offer.
  expect(
    await refusal(handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'x', mode: 'restore' }] })),
  ).toMatch(/needs a verified backup/);
  // The fix: Production's owners allow Project 7 (no published row changes).
  await rows(prod, "INSERT INTO allow_list VALUES ('Project 7')");
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'roll-forward', by: 'oncall', reason: 'renamed', fromStep: 'validate' }] });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  expect(result.steps.filter((s) => s.step === 'publish' && s.outcome === 'completed')).toHaveLength(1);
  expect(result.steps.filter((s) => s.step === 'validate' && s.outcome === 'completed')).toHaveLength(2);
  // Every moved row once: production = its own rows + exactly the expected Pilot rows.
  for (const [table, sql] of Object.entries(EXPECTED)) {
    const own = table === 'accounts' ? 2 : 1; // Production's own rows (PRODUCTION_DATA)
    const expected = await count(h.pilot, sql);
    expect([table, await count(prod, `SELECT 1 FROM ${table}`)]).toEqual([table, own + expected]);
  }
  await record(handle, 'roll-forward');
}, 180000);
