// Strategy adopt through the real workflow: the Pilot becomes Production in place. Nothing is
// removed before the last gate (gate cutover): until then the Pilot holds every row, by the test's
// own SQL. After it, its test accounts and erased users, with every row depending on them, are
// removed from the Pilot itself — checked against rows the test computes with its own SQL — each in
// the Pilot's cutover.manifest with its reason, exactly what the dry run shown at gate plan counted;
// adoptFrom lands in the result and the evidence; Production is not touched. A failing access check
// after the cleanup pauses the run, and rollback restores the Pilot from the backup with the erased
// users (and their rows) still gone.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderReport } from '../client/commands/report';
import { status } from '../client/commands/status';
import type { CommandContext } from '../client/commands/context';
import type { TemporalContext } from '../client/connection';
import type { EvidenceDocument } from '../common/evidence';
import { approveSignal, reportQuery, resumeSignal, type EvidencePack, type StatusView } from '../common/temporal';
import { useHarness } from './helpers/harness';
import { checkerRole, rows, withDb } from './helpers/pg';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA } from './helpers/saas';
import { atGate, paused, record, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';

const REGISTER = 'CREATE TABLE erasure_request (user_id bigint NOT NULL, requested_at date NOT NULL DEFAULT current_date);';
const ERASED = 'INSERT INTO erasure_request (user_id) VALUES (7), (13), (9999);'; // 9999: no such user
const h = useHarness('cutover_adopt', SAAS_SCHEMA + REGISTER + PILOT_DATA + ERASED);
/** Access checks run as a role that can only read (accessCheckRole), never as the tests' superuser. */
const checker = checkerRole('cutover_ad');
afterAll(() => checker.drop());

/** Reset the Pilot's data to the fixture (the cutover schema stays: runs have their own keys). */
const resetPilot = () =>
  withDb(h.pilot, (c) => c.query(`TRUNCATE events, projects, users, accounts, erasure_request; ${PILOT_DATA} ${ERASED}`));

const plan = (id: string, store: string, extra: Record<string, unknown> = {}) => ({
  version: 1,
  id,
  strategy: 'adopt',
  adoptFrom: '2026-12-01',
  source: 'pilot',
  target: 'production',
  approvals: { approvers: ['bob'], required: 1, timeout: '1h' },
  backup: { store: `file://${store}` },
  tables: [{ table: 'accounts' }, { table: 'users' }, { table: 'projects' }, { table: 'events' }],
  subjects: { table: 'users', key: 'user_id' },
  testData: [{ table: 'accounts', where: [{ column: 'is_test', op: 'eq', value: true }], reason: 'test-account' }],
  erasure: { registers: [{ db: 'source', table: 'erasure_request', subject: 'user_id' }] },
  ...extra,
});

// What must go, written independently of cutover: test accounts, erased users, and their dependents (a fixed point here).
const GONE = {
  accounts: 'SELECT account_id AS k FROM accounts WHERE is_test',
  users:
    'SELECT user_id AS k FROM users WHERE account_id IN (SELECT account_id FROM accounts WHERE is_test) OR user_id IN (SELECT user_id FROM erasure_request)',
} as Record<string, string>;
GONE.projects = `SELECT project_id AS k FROM projects WHERE account_id IN (${GONE.accounts}) OR owner_id IN (${GONE.users})`;
GONE.events = `SELECT event_id AS k FROM events WHERE project_id IN (${GONE.projects}) OR user_id IN (${GONE.users})`;
const KEY = { accounts: 'account_id', users: 'user_id', projects: 'project_id', events: 'event_id' } as Record<string, string>;
const TABLES = ['accounts', 'users', 'projects', 'events'];

const content = async (url: string, t: string, where = 'TRUE') =>
  (await rows<{ r: string }>(url, `SELECT to_jsonb(x)::text AS r FROM ${t} x WHERE ${where} ORDER BY ${KEY[t]}`)).map((x) => x.r);
const everything = async (url: string) =>
  Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await content(url, t)] as const)));
const dump = (url: string) =>
  rows(
    url,
    "SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 1, 2",
  ).then(async (ts) =>
    Promise.all(
      ts.map(async (x) => [
        x.s,
        x.t,
        (await rows(url, `SELECT to_jsonb(y)::text AS r FROM "${x.s}"."${x.t}" y ORDER BY 1`)).map((r) => r.r),
      ]),
    ),
  );

test('adopt removes exactly the test data and erased subjects (and their dependents) from the Pilot, records adoptFrom, leaves Production untouched', async () => {
  await resetPilot();
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const prodBefore = await dump(prod);
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-adopt-'));
  // Expected: the Pilot's rows less the ones that must go, and the keys that go, read before the run.
  const keep: Record<string, string[]> = {};
  const gone: Record<string, string[]> = {};
  for (const t of TABLES) {
    keep[t] = await content(h.pilot, t, `${KEY[t]} NOT IN (${GONE[t]})`);
    gone[t] = (await rows<{ k: string }>(h.pilot, `SELECT k::text FROM (${GONE[t]}) g ORDER BY 1`)).map((x) => x.k).sort();
  }
  expect(gone.users).toEqual(expect.arrayContaining(['7', '13']));
  expect(gone.events.length).toBeGreaterThan(0);

  const untouched = await everything(h.pilot);
  const handle = await startRun(h.env, plan('adopt-ok', store), 'alice');
  const atPlan = await waitFor(handle, atGate('plan'), 90000);
  const dry = (await handle.query(reportQuery)).dryRun!;
  // The dry run counts what the cleanup will remove, per table.
  for (const t of dry.tables)
    expect(Object.values(t.leftBehind).reduce((a, b) => a + b, 0)).toBe(gone[t.table.replace('public.', '')].length);
  expect(atPlan.steps.some((s) => s.step === 'preflight' && s.outcome === 'completed')).toBe(true);
  // Gate plan shows that dry run, the same in the UI's current details and in `cutover status`: per
  // table the Pilot's rows, the rows removed and kept (the test's own counts), why, and that nothing
  // is removed before gate cutover.
  const details = ((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';
  const out: string[] = [];
  const ctx: CommandContext = {
    io: { out: (t) => void out.push(t), err: () => undefined, isTTY: false },
    temporal: { client: async () => h.env.client } as unknown as TemporalContext,
    env: {},
    exitCode: 0,
  };
  await status(ctx, 'adopt-ok', {});
  const statusText = out.join('\n');
  for (const t of TABLES) {
    const total = Number((await rows<{ n: string }>(h.pilot, `SELECT count(*)::text AS n FROM ${t}`))[0].n);
    // The UI shows the table as aligned text (its markdown tables run together at half width).
    for (const text of [details, statusText])
      expect(text).toMatch(new RegExp(`public\\.${t}\\s+${total}\\s+${gone[t].length}\\s+${total - gone[t].length}\\n`));
  }
  for (const text of [details, statusText]) {
    expect(text).toContain("Approving backs up the Pilot's plan tables; nothing is removed before gate cutover.");
    expect(text).toContain(`public.accounts: test-account ${gone.accounts.length}`);
    expect(text).toMatch(/public\.users: [^\n]*erasure-request 2/);
    expect(text).toMatch(/approvers\W+bob: 1 required; the initiator may not approve/);
  }
  expect(statusText).not.toContain('planned');
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  const atCutover = await waitFor(handle, atGate('cutover'), 120000);
  // Nothing destructive before the last gate: at gate cutover the Pilot still holds every row, no
  // manifest row was written, and the only step done since gate plan is the backup.
  expect(await everything(h.pilot)).toEqual(untouched);
  const manifestSoFar = (await rows(h.pilot, "SELECT to_regclass('cutover.manifest') IS NOT NULL AS e"))[0].e
    ? await rows(h.pilot, 'SELECT 1 FROM cutover.manifest WHERE run_key = $1', [atCutover.runKey])
    : [];
  expect(manifestSoFar).toEqual([]);
  expect(atCutover.steps.filter((s) => s.outcome === 'completed').map((s) => s.step)).toEqual(['preflight', 'backup']);
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  await record(handle, 'adopt'); // CUTOVER_RECORD_HISTORIES=<tag>: test/histories/adopt.<tag>.json for the replay test

  expect(await everything(h.pilot)).toEqual(keep);
  // The manifest in the Pilot's own cutover schema: every removed row, with its reason.
  const manifest = await rows<{ t: string; k: string; reason: string; outcome: string }>(
    h.pilot,
    'SELECT table_name AS t, key->>0 AS k, reason, outcome FROM cutover.manifest WHERE run_key = $1',
    [result.runKey],
  );
  for (const t of TABLES)
    expect(
      manifest
        .filter((m) => m.t === `public.${t}`)
        .map((m) => m.k)
        .sort(),
    ).toEqual(gone[t]);
  expect(manifest.every((m) => m.outcome === 'left-behind')).toBe(true);
  const reasonOf = (t: string, k: string) => manifest.find((m) => m.t === `public.${t}` && m.k === k)?.reason;
  expect(reasonOf('accounts', '5')).toBe('test-account');
  expect(reasonOf('users', '7')).toBe('erasure-request');
  expect(reasonOf('users', '4')).toBe('parent-left-behind:public.accounts'); // user 4 belongs to test account 5
  const log = await rows<{ k: string }>(
    h.pilot,
    "SELECT subject->>0 AS k FROM cutover.erasure_log WHERE run_key = $1 AND step = 'adopt-cleanup' ORDER BY 1",
    [result.runKey],
  );
  expect(log.map((x) => x.k).sort()).toEqual(['13', '7']);

  // adoptFrom in the step result, the history, the Pilot's run registry and the evidence pack.
  const report = (await handle.query(reportQuery)) as EvidencePack;
  expect(report.adoption?.adopt?.adoptFrom).toBe('2026-12-01');
  expect(report.adoption?.cleanup?.manifestRows).toBe(manifest.length);
  expect(result.steps.find((s) => s.step === 'adopt' && s.outcome === 'completed')?.detail).toMatch(/Production from 2026-12-01/);
  expect(await rows(h.pilot, 'SELECT adopt_from::text AS d, status FROM cutover.run WHERE run_key = $1', [result.runKey])).toEqual([
    { d: '2026-12-01', status: 'completed' },
  ]);
  const evidence = await rows<{ pack: EvidenceDocument }>(h.pilot, 'SELECT pack FROM cutover.evidence WHERE run_key = $1', [result.runKey]);
  expect(evidence[0].pack.adoption?.adoptFrom).toBe('2026-12-01');
  // The md and HTML reports of the stored pack say what was removed: per table, the rows the test's
  // own SQL says had to go, and every removed row under its cause (no "No rows left behind").
  const removedRows = await rows<{ t: string; reason: string; n: number }>(
    h.pilot,
    'SELECT table_name AS t, reason, count(*)::int AS n FROM cutover.manifest WHERE run_key = $1 GROUP BY 1, 2',
    [result.runKey],
  );
  const md = renderReport(evidence[0].pack, 'md');
  const html = renderReport(evidence[0].pack, 'html');
  for (const text of [md, html]) expect(text).not.toContain('No rows left behind');
  expect(md).toContain(`- **rows removed from the Pilot**: ${manifest.length}\n`);
  for (const t of TABLES) expect(md).toContain(`| public.${t} | ${gone[t].length} |`);
  for (const r of removedRows) {
    const shown = [...md.matchAll(new RegExp(`^\\| ${r.t} \\| ${r.reason} \\| (\\d+) \\| .*\\|$`, 'gm'))].reduce(
      (a, m) => a + Number(m[1]),
      0,
    );
    expect(shown).toBe(r.n); // each removed row counted once, under its own cause
    expect(html).toContain(`<td>${r.t}</td><td>${r.reason}</td>`);
  }

  // Production: not one row changed, no control schema.
  expect(await dump(prod)).toEqual(prodBefore);
  expect(await rows(prod, "SELECT 1 FROM pg_namespace WHERE nspname = 'cutover'")).toEqual([]);
}, 240000);

test('a failing access check after the cleanup pauses; rollback restores the Pilot except the erased subjects', async () => {
  await resetPilot();
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const prodBefore = await dump(prod);
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-adopt-rb-'));
  const before = await everything(h.pilot);
  // After the rollback: everything as before, less the erased users and what depends on them.
  const erasedOnly: Record<string, string> = {
    users: 'SELECT user_id FROM erasure_request',
  };
  erasedOnly.projects = `SELECT project_id FROM projects WHERE owner_id IN (${erasedOnly.users})`;
  erasedOnly.events = `SELECT event_id FROM events WHERE project_id IN (${erasedOnly.projects}) OR user_id IN (${erasedOnly.users})`;
  const expected: Record<string, string[]> = {};
  for (const t of TABLES) expected[t] = await content(h.pilot, t, erasedOnly[t] ? `${KEY[t]} NOT IN (${erasedOnly[t]})` : 'TRUE');
  expect(expected.users.length).toBe(before.users.length - 2);

  // adopt checks the Pilot: the read-only role they run as is granted there, before the run.
  await rows(h.pilot, checker.sql);
  const handle = await startRun(
    h.env,
    plan('adopt-rb', store, {
      accessChecks: [{ name: 'no-free-accounts', sql: "SELECT account_id FROM accounts WHERE plan = 'free'" }],
      accessCheckRole: checker.name,
    }),
    'alice',
  );
  await waitFor(handle, atGate('plan'), 90000);
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, atGate('cutover'), 120000);
  expect(await everything(h.pilot)).toEqual(before); // nothing removed before the last gate
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
  const stopped = await waitFor(handle, paused, 120000);
  expect(stopped.phase).toBe('access-checks');
  expect(stopped.actions).toContain('rollback');
  expect(await everything(h.pilot)).not.toEqual(before); // the cleanup committed

  await handle.signal(resumeSignal, { action: 'rollback', by: 'oncall', reason: 'free accounts must not be adopted' });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('rolled-back');
  expect(await everything(h.pilot)).toEqual(expected);

  const report = (await handle.query(reportQuery)) as EvidencePack;
  const restore = report.adoption!.restore!;
  expect(restore.erasures.subjects).toBe(3);
  expect(restore.tables.find((t) => t.table === 'public.users')!.reErased).toBe(2);
  const accounts = restore.tables.find((t) => t.table === 'public.accounts')!;
  expect(accounts.restored).toBe(accounts.removedByCleanup);
  expect(accounts.restored).toBeGreaterThan(0);
  expect(report.adoption!.adopt).toBeNull(); // never adopted
  // The md report shows the restore per table; its counts are the Pilot's as the test's SQL reads them.
  const md = renderReport(report, 'md');
  expect(md).toContain('### Adoption rolled back: the Pilot restored');
  for (const t of TABLES) {
    const x = restore.tables.find((r) => r.table === `public.${t}`)!;
    expect(x.after).toBe(expected[t].length);
    expect(md).toContain(`| public.${t} | ${x.before} | ${x.removedByCleanup} | ${x.restored} | ${x.reErased} | ${x.after} |`);
  }
  expect(await dump(prod)).toEqual(prodBefore);
}, 240000);
