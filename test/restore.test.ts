// Rollback by restore through the real workflow on real PostgreSQL: a surgical rollback blocked by a
// row production wrote after publish is resumed with mode restore; gate restore shows what a
// restore would discard (that row among them); a rejection pauses the run with the restore refused
// and retry asks again; two approvers approve; production then equals its pre-run contents (the
// test's own SQL dump) less an erasure request registered in production after the backup, which is
// re-applied and logged (the user's row deleted; the project they own and an event they caused kept
// with that nullable reference set to NULL). Mode restore is refused on a run without a backup.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { approveSignal, rejectSignal, resumeUpdate, type EvidencePack, type StatusView } from '../common/temporal';
import { useHarness } from './helpers/harness';
import { checkerRole, rows } from './helpers/pg';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { atGate, paused, record, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';

const h = useHarness('cutover_rs', SAAS_SCHEMA + PILOT_DATA);

/**
 * Every table's content, order-independent, by the test's own SQL; `erased` applies one subject's
 * erasure as the default rules say: the user's row goes; projects.owner_id and events.user_id are
 * nullable, so a project they own and an event they caused stay with that reference set to NULL.
 */
const dump = async (url: string, erased?: number) => {
  const e = erased === undefined ? null : String(erased);
  const from = {
    users: e ? `users x WHERE user_id <> ${e}` : 'users x',
    projects: e ? `(SELECT project_id, account_id, NULLIF(owner_id, ${e}) AS owner_id, name, settings FROM projects) x` : 'projects x',
    events: e ? `(SELECT event_id, project_id, NULLIF(user_id, ${e}) AS user_id, kind, payload, at FROM events) x` : 'events x',
  };
  return rows(
    url,
    `SELECT 'accounts' AS t, string_agg(x::text, ';' ORDER BY x::text) AS v FROM accounts x
    UNION ALL SELECT 'users', string_agg(x::text, ';' ORDER BY x::text) FROM ${from.users}
    UNION ALL SELECT 'projects', string_agg(x::text, ';' ORDER BY x::text) FROM ${from.projects}
    UNION ALL SELECT 'events', string_agg(x::text, ';' ORDER BY x::text) FROM ${from.events}`,
  );
};
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: { cause?: { message?: string } }) => e.cause?.message ?? String(e),
  );

const CHECK = {
  name: 'no-project-seven',
  sql: "SELECT project_id, name FROM projects p WHERE name = 'Project 7' AND NOT EXISTS (SELECT 1 FROM allow_list a WHERE a.name = p.name)",
};
// Checks run as a role that can only read (accessCheckRole), never as the tests' superuser.
const checker = checkerRole('cutover_rs');
afterAll(() => checker.drop());
const PRODUCTION =
  SAAS_SCHEMA +
  PRODUCTION_DATA +
  'CREATE TABLE allow_list (name text PRIMARY KEY); CREATE TABLE erasure_request (user_id bigint NOT NULL, at timestamptz DEFAULT now());' +
  checker.sql;
const APPROVERS = { approvers: ['bob', 'carol', 'dave'], required: 2, separationOfDuties: true, timeout: '1h' };

async function pausedAfterPublish(id: string, extra: Record<string, unknown> = {}) {
  const handle = await startRun(
    h.env,
    saasPlan(id, { approvals: APPROVERS, accessChecks: [CHECK], accessCheckRole: checker.name, ...extra }),
  );
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate));
    for (const approver of ['bob', 'carol']) await handle.signal(approveSignal, { gate, approver });
  }
  const view = await waitFor(handle, paused, 120000);
  expect([view.phase, view.error?.type]).toEqual(['access-checks', 'AccessCheckError']);
  return handle;
}

test('a blocked surgical rollback is resumed as a restore: gate restore shows what it discards; production equals its pre-run contents less a later erasure', async () => {
  const prod = await h.production(PRODUCTION);
  const before = await dump(prod);
  const expected = await dump(prod, 1000); // production's own user 1000 will ask to be erased after the backup
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-rs-'));
  const handle = await pausedAfterPublish('rs-restore', {
    backup: { store: `file://${store}` },
    subjects: { table: 'users', key: 'user_id' },
    erasure: { registers: [{ db: 'target', table: 'erasure_request', subject: 'user_id', keys: 'production' }] },
  });

  // Production writes a row referencing a published project: the surgical rollback is blocked.
  await rows(prod, 'INSERT INTO events VALUES (7000, 1, NULL, \'view\', \'{"by":"production"}\', now())');
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'project seven must go' }] });
  const blocked = await waitFor(handle, (s) => s.status === 'paused' && s.phase === 'rollback', 90000);
  expect(blocked.error?.type).toBe('RollbackBlocked');
  expect(blocked.error?.message).toContain('public.events (event_id)=(7000)');
  expect(blocked.actions).toContain('rollback');
  // The erasure request arrives after the backup was taken.
  await rows(prod, 'INSERT INTO erasure_request (user_id) VALUES (1000)');

  await handle.executeUpdate(resumeUpdate, {
    args: [{ action: 'rollback', by: 'oncall', reason: 'blocked: restore instead', mode: 'restore' }],
  });
  const gateView = await waitFor(handle, atGate('restore'), 90000);
  const events = gateView.restorePreview!.tables.find((t) => t.table === 'public.events')!;
  expect(events).toMatchObject({ writtenSinceBackup: 1, added: 1, removed: 0, changed: 0 });
  expect(events.examples).toEqual(['(event_id)=(7000)']);
  expect(events.insertedByRun).toBeGreaterThan(0);
  expect(events.nowRows).toBe(events.backupRows + events.insertedByRun + 1);
  const details = ((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';
  expect(details).toContain('would discard');
  expect(details).toContain('(event_id)=(7000)');

  // A rejection does not end the run: it pauses with the restore refused; retry asks again.
  await handle.signal(rejectSignal, { gate: 'restore', approver: 'carol', reason: 'not yet' });
  const refused = await waitFor(handle, (s) => s.status === 'paused' && s.phase === 'gate:restore');
  expect(refused.error?.type).toBe('RestoreRefused');
  expect(refused.actions).toEqual(['retry', 'rollback']);
  expect(await refusal(handle.executeUpdate(resumeUpdate, { args: [{ action: 'abort', by: 'oncall', reason: 'x' }] }))).toMatch(
    /publish has committed/,
  );
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'carol agreed now' }] });
  expect((await waitFor(handle, atGate('restore'), 90000)).restorePreview).toBeDefined();
  expect(await refusal(handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'x' }] }))).toMatch(
    /not paused/,
  );
  for (const approver of ['bob', 'carol']) await handle.signal(approveSignal, { gate: 'restore', approver });

  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('rolled-back');
  expect(await dump(prod)).toEqual(expected);
  expect(expected).not.toEqual(before); // the erasure removed rows that were there before the run
  const log = await rows<{ table_name: string; rows: number; action: string; register: string; step: string }>(
    prod,
    "SELECT table_name, rows, action, register, step FROM cutover.erasure_log WHERE subject = '1000'::jsonb ORDER BY table_name",
  );
  expect(log).toEqual([
    { table_name: 'public.events', rows: 1, action: 'nullified-after-restore', register: 'target:public.erasure_request', step: 'restore' },
    {
      table_name: 'public.projects',
      rows: 1,
      action: 'nullified-after-restore',
      register: 'target:public.erasure_request',
      step: 'restore',
    },
    { table_name: 'public.users', rows: 1, action: 'erased-after-restore', register: 'target:public.erasure_request', step: 'restore' },
  ]);
  const report = (await handle.query('report')) as EvidencePack;
  const r = report.restore!;
  expect(r.tables.every((t) => t.ok)).toBe(true);
  expect(r.erasures.requests).toBe(1);
  expect(r.erasures.applications).toEqual([
    {
      register: 'target:public.erasure_request',
      subject: '1000',
      productionSubject: '[1000]',
      rows: { 'public.users': 1 },
      nullified: { 'public.events': 1, 'public.projects': 1 },
    },
  ]);
  expect(r.tables.find((t) => t.table === 'public.users')).toMatchObject({
    erased: 1,
    after: r.tables.find((t) => t.table === 'public.users')!.backupRows - 1,
  });
  // Sequences never go below where production had them (event ids handed out since stay used).
  const seq = r.sequences.find((s) => s.sequence === 'public.events_event_id_seq')!;
  expect(seq.next).toBeGreaterThanOrEqual(seq.currentNext);
  expect(report.restorePreview?.tables.length).toBe(4);
  // This run's scratch database is gone (other test files may hold their own at the same time).
  expect(await rows(prod, 'SELECT 1 FROM pg_database WHERE datname = $1', [`cutover_restore_${report.runKey}`])).toEqual([]);
  await record(handle, 'restore');
}, 360000);

test('mode restore is refused on a run without a backup', async () => {
  await h.production(PRODUCTION);
  const handle = await pausedAfterPublish('rs-nobackup');
  expect(
    await refusal(handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'x', mode: 'restore' }] })),
  ).toMatch(/restore from the backup is not available in this run: it needs a verified backup/);
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'surgical then' }] });
  expect(((await runResult(handle)) as StatusView).status).toBe('rolled-back');
  // Not a success: closed as Failed, typed by its outcome (common/outcome.ts).
  expect((await handle.describe()).status.name).toBe('FAILED');
  expect(
    await handle.result().then(
      () => null,
      (e: { cause?: { type?: string } }) => e.cause?.type,
    ),
  ).toBe('CutoverRolledBack');
}, 240000);

test('a row of a table the restore does not cover that references a plan row blocks it (listed, nothing restored); retry after it is gone completes', async () => {
  const prod = await h.production(
    PRODUCTION + 'CREATE TABLE notes (note_id int PRIMARY KEY, project_id bigint REFERENCES projects ON DELETE CASCADE);' + checker.sql,
  );
  const before = await dump(prod);
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-rs-'));
  const handle = await pausedAfterPublish('rs-blocked', { backup: { store: `file://${store}` } });
  await rows(prod, 'INSERT INTO notes VALUES (1, 1000)'); // production's own project, in the backup too
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'restore', mode: 'restore' }] });
  await waitFor(handle, atGate('restore'), 90000);
  for (const approver of ['bob', 'carol']) await handle.signal(approveSignal, { gate: 'restore', approver });
  const blocked = await waitFor(handle, (s) => s.status === 'paused' && s.phase === 'restore', 90000);
  expect(blocked.error?.type).toBe('RollbackBlocked');
  expect(blocked.error?.message).toContain('public.notes (note_id)=(1) (FK notes_project_id_fkey → public.projects)');
  expect(blocked.actions).toEqual(['retry', 'rollback']);
  expect(await rows(prod, 'SELECT note_id FROM notes')).toEqual([{ note_id: 1 }]); // nothing cascaded, nothing committed
  await rows(prod, 'DELETE FROM notes');
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'note moved elsewhere' }] });
  expect(((await runResult(handle)) as StatusView).status).toBe('rolled-back');
  expect(await dump(prod)).toEqual(before);
}, 240000);

test('a rollback by restore anonymizes the rows erasure.anonymize names instead of deleting them, and proves it', async () => {
  const prod = await h.production(PRODUCTION);
  const before = (await dump(prod)) as { t: string; v: string | null }[];
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-rs-anon-'));
  const handle = await pausedAfterPublish('rs-anon', {
    backup: { store: `file://${store}` },
    subjects: { table: 'users', key: 'user_id' },
    erasure: {
      registers: [{ db: 'target', table: 'erasure_request', subject: 'user_id', keys: 'production' }],
      anonymize: [{ table: 'projects', columns: { owner_id: null, name: '[erased]', settings: null } }],
    },
  });
  await rows(prod, 'INSERT INTO erasure_request (user_id) VALUES (1000)'); // after the backup
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'restore it', mode: 'restore' }] });
  await waitFor(handle, atGate('restore'), 90000);
  for (const approver of ['bob', 'carol']) await handle.signal(approveSignal, { gate: 'restore', approver });
  expect(((await runResult(handle)) as StatusView).status).toBe('rolled-back');

  // User 1000 and the event that reaches them are gone; their project stays, anonymized (our own SQL).
  expect(await rows(prod, 'SELECT user_id FROM users WHERE user_id = 1000')).toEqual([]);
  expect(await rows(prod, 'SELECT event_id FROM events WHERE event_id = 1000')).toEqual([]);
  expect(await rows(prod, 'SELECT project_id, account_id, owner_id, name, settings FROM projects WHERE project_id = 1000')).toEqual([
    { project_id: '1000', account_id: '1000', owner_id: null, name: '[erased]', settings: null },
  ]);
  // Every other row is production's from before the run (the run's rows are gone with the restore).
  const rest = (d: { t: string; v: string | null }[]) =>
    d.map((x) => ({ t: x.t, v: (x.v ?? '').split(';').filter((r) => r !== '' && !/^\(1000,/.test(r)) }));
  expect(rest((await dump(prod)) as { t: string; v: string | null }[])).toEqual(rest(before));
  expect(rest(before).find((x) => x.t === 'accounts')!.v.length).toBeGreaterThan(0);
  const log = await rows(
    prod,
    "SELECT table_name, rows, action, step FROM cutover.erasure_log WHERE subject = '1000'::jsonb ORDER BY table_name",
  );
  expect(log).toEqual([
    { table_name: 'public.events', rows: 1, action: 'erased-after-restore', step: 'restore' },
    { table_name: 'public.projects', rows: 1, action: 'anonymized-after-restore', step: 'restore' },
    { table_name: 'public.users', rows: 1, action: 'erased-after-restore', step: 'restore' },
  ]);
  const r = ((await handle.query('report')) as EvidencePack).restore!;
  expect(r.tables.every((t) => t.ok)).toBe(true);
  expect(r.tables.find((t) => t.table === 'public.projects')).toMatchObject({ erased: 0 });
  expect(r.erasures.anonymized).toEqual({ 'public.projects': 1 });
}, 360000);
