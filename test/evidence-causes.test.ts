// Root causes in the evidence are counted per row, on real PostgreSQL: each row left behind is
// counted once, under the first cause that removed it (a direct rule before any cascade, a cascaded
// row under its own parent's cause), never as every chain its parent table has; a test-data rule's
// cascade counts only the rows it started. Judged by the test's own SQL over the Pilot (an
// independent model of the rules: test accounts, then erasure requests, then missing consent, then
// the cascade down the foreign keys), and by cutover.manifest counted with the test's own SQL.
import { MockActivityEnvironment } from '@temporalio/testing';
import { cleanup } from '../activities/cleanup';
import { stage } from '../activities/stage';
import { buildEvidence } from '../common/evidence';
import type { CleanupResult, StepInput, TableValidation } from '../common/results';
import type { EvidencePack } from '../common/temporal';
import { formatReportHtml } from '../client/format/report-html';
import { formatReportMarkdown } from '../client/format/report-md';
import { validatePlan } from '../plan/validate';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';

const base = uniqueName('cutover_causes');
const SCHEMA = `
CREATE TABLE accounts (account_id int PRIMARY KEY, name text NOT NULL, is_test boolean NOT NULL DEFAULT false);
CREATE TABLE users (user_id int PRIMARY KEY, account_id int NOT NULL REFERENCES accounts);
CREATE TABLE projects (project_id int PRIMARY KEY, account_id int NOT NULL REFERENCES accounts, owner_id int NOT NULL REFERENCES users);
CREATE TABLE events (event_id int PRIMARY KEY, project_id int NOT NULL REFERENCES projects, user_id int NOT NULL REFERENCES users);
CREATE TABLE consent (user_id int NOT NULL, status text NOT NULL);
CREATE TABLE erasure_request (user_id int NOT NULL);
`;
// Account 3 is a test account. Users 10–29 spread over the accounts; 10 and 14 asked to be erased
// (14 is also in the test account: erased first), 11 and 17 gave no consent (both in the test
// account too). Every project belongs to account 1 and is owned by some user; every event is by
// user 13, who stays, on some project: a project's and an event's cause is its owner's.
const PILOT = `
INSERT INTO accounts VALUES (1, 'a', false), (2, 'b', false), (3, 'test', true);
INSERT INTO users SELECT u, 1 + u % 3 FROM generate_series(10, 29) u;
INSERT INTO consent SELECT u, 'granted' FROM generate_series(10, 29) u WHERE u NOT IN (11, 17);
INSERT INTO erasure_request VALUES (10), (14);
INSERT INTO projects SELECT p, 1, 10 + p % 20 FROM generate_series(100, 159) p;
INSERT INTO events SELECT e, 100 + e % 60, 13 FROM generate_series(1, 300) e;
`;
let pilot: string;
let prod: string;

beforeAll(async () => {
  pilot = await createDb(`${base}_pilot`, SCHEMA + PILOT);
  prod = await createDb(`${base}_prod`, SCHEMA);
  process.env.CUTOVER_DB_PILOT = pilot;
  process.env.CUTOVER_DB_PRODUCTION = prod;
}, 60000);

afterAll(async () => {
  await dropDb(`${base}_pilot`);
  await dropDb(`${base}_prod`);
});

const plan = validatePlan({
  version: 1,
  id: 'causes',
  strategy: 'selective',
  source: 'pilot',
  target: 'production',
  approvals: { approvers: ['a', 'b'], required: 1 },
  tables: [
    { table: 'accounts', select: { all: true } },
    { table: 'users', select: { follow: ['account_id'] } },
    { table: 'projects', select: { follow: ['account_id'] } },
    { table: 'events', select: { follow: ['project_id'] } },
  ],
  subjects: { table: 'users', key: 'user_id' },
  consent: { table: 'consent', subject: 'user_id', granted: [{ column: 'status', op: 'eq', value: 'granted' }] },
  erasure: { registers: [{ db: 'source', table: 'erasure_request', subject: 'user_id' }] },
  testData: [{ table: 'accounts', where: [{ column: 'is_test', op: 'eq', value: true }], reason: 'test-account' }],
});

/** Every row left behind and its chain of causes, written independently of cutover. */
const MODEL = `
WITH a AS (SELECT account_id, 'test-account' AS chain FROM accounts WHERE is_test),
u AS (SELECT user_id, CASE
        WHEN user_id IN (SELECT user_id FROM erasure_request) THEN 'erasure-request'
        WHEN user_id NOT IN (SELECT user_id FROM consent WHERE status = 'granted') THEN 'no-consent'
        WHEN account_id IN (SELECT account_id FROM a) THEN 'parent-left-behind:public.accounts ← test-account' END AS chain FROM users),
p AS (SELECT project_id, 'parent-left-behind:public.users ← ' || u.chain AS chain FROM projects JOIN u ON u.user_id = owner_id WHERE u.chain IS NOT NULL),
e AS (SELECT event_id, 'parent-left-behind:public.projects ← ' || p.chain AS chain FROM events JOIN p USING (project_id)),
every AS (SELECT 'public.accounts' AS t, chain FROM a UNION ALL SELECT 'public.users', chain FROM u WHERE chain IS NOT NULL
          UNION ALL SELECT 'public.projects', chain FROM p UNION ALL SELECT 'public.events', chain FROM e)
SELECT t, split_part(chain, ' ← ', 1) AS reason, chain, count(*)::int AS n FROM every GROUP BY 1, 2, 3`;

type Causes = Record<string, Record<string, Record<string, number>>>;
const model = async (): Promise<Causes> => {
  const out: Causes = {};
  for (const r of await rows<{ t: string; reason: string; chain: string; n: number }>(pilot, MODEL))
    ((out[r.t] ??= {})[r.reason] ??= {})[r.chain] = r.n;
  return out;
};

test('cleanup counts every row left behind under its own first cause; the evidence and its reports say the same', async () => {
  const expected = await model();
  // The fixture has what the bug needs: projects left behind under one reason with several chains.
  expect(Object.keys(expected['public.projects']['parent-left-behind:public.users']).length).toBe(3);

  const input: StepInput = { plan, runKey: 'causes000001', workflowId: 'cutover-causes', runId: 'r1' };
  const env = new MockActivityEnvironment();
  await env.run(stage, input);
  const result = (await env.run(cleanup, input)) as CleanupResult;
  expect(result.rootCauses).toEqual(expected);

  // The evidence as validate would record it: per reason, cutover.manifest counted by our own SQL.
  const manifest = await rows<{ t: string; reason: string; n: number }>(
    prod,
    "SELECT table_name AS t, reason, count(*)::int AS n FROM cutover.manifest WHERE run_key = $1 AND outcome = 'left-behind' GROUP BY 1, 2",
    [input.runKey],
  );
  const staged = Object.fromEntries(
    (
      await rows<{ t: string; n: number }>(
        pilot,
        `SELECT 'public.accounts' AS t, count(*)::int AS n FROM accounts UNION ALL SELECT 'public.users', count(*)::int FROM users
    UNION ALL SELECT 'public.projects', count(*)::int FROM projects UNION ALL SELECT 'public.events', count(*)::int FROM events`,
      )
    ).map((r) => [r.t, r.n]),
  );
  const validation: TableValidation[] = Object.keys(staged).map((table) => {
    const leftBehindByReason = Object.fromEntries(manifest.filter((m) => m.t === table).map((m) => [m.reason, m.n]));
    const leftBehind = Object.values(leftBehindByReason).reduce((a, b) => a + b, 0);
    return {
      table,
      inScope: staged[table],
      moved: staged[table] - leftBehind,
      merged: 0,
      leftBehind,
      leftBehindByReason,
      stagingChecksum: 'x',
      productionChecksum: 'x',
      ok: true,
      problems: [],
      differingKeys: [],
    };
  });
  const pack: EvidencePack = {
    planId: 'causes',
    planHash: 'h'.repeat(64),
    strategy: 'selective',
    status: 'completed',
    initiatedBy: 'alice',
    workflowId: 'cutover-causes',
    runId: 'r1',
    runKey: input.runKey,
    startedAt: '2026-01-02T03:00:00.000Z',
    finishedAt: '2026-01-02T04:00:00.000Z',
    plan,
    approvals: [],
    refused: [],
    refusedCount: 0,
    steps: [],
    dryRun: null,
    stage: null,
    cleanup: result,
    publish: null,
    validation: { ok: true, tables: validation },
    accessChecks: null,
    rollback: null,
    backups: null,
    rehearsal: null,
    decision: null,
  };
  const doc = buildEvidence(pack);
  for (const t of doc.manifest.tables) {
    expect(t.rootCauseRows).toEqual(expected[t.table] ?? {});
    // Each reason's rows, split over its chains, add up to the manifest's count: no row counted twice.
    for (const [reason, n] of Object.entries(t.leftBehindByReason))
      expect(Object.values(t.rootCauseRows![reason]).reduce((a, b) => a! + b!, 0)).toBe(n);
    for (const reason of Object.keys(t.leftBehindByReason))
      expect(t.rootCauses[reason]).toEqual(Object.keys(expected[t.table][reason]).sort());
  }
  // The test-data rule's cascade: only the rows whose first cause is a test account, below it.
  const fromTestAccounts = Object.values(expected)
    .flatMap((reasons) => Object.values(reasons).flatMap((chains) => Object.entries(chains)))
    .filter(([chain]) => chain !== 'test-account' && chain.endsWith(' ← test-account'))
    .reduce((a, [, n]) => a + n, 0);
  expect(doc.testData).toEqual([expect.objectContaining({ reason: 'test-account', leftBehind: 1, cascaded: fromTestAccounts })]);
  // Likewise consent and erasure: their own rows, and the rows below them.
  const below = (root: string) =>
    Object.values(expected)
      .flatMap((reasons) => Object.values(reasons).flatMap((chains) => Object.entries(chains)))
      .filter(([chain]) => chain.endsWith(` ← ${root}`))
      .reduce((a, [, n]) => a + n, 0);
  expect(doc.consent).toMatchObject({ leftBehind: 2, cascaded: below('no-consent') });
  expect(doc.erasure).toMatchObject({ leftBehind: 2, cascaded: below('erasure-request') });
  expect(below('no-consent')).toBeGreaterThan(0);

  // The reports: one line per chain with its own rows.
  const md = formatReportMarkdown(doc);
  const html = formatReportHtml(doc);
  for (const [table, reasons] of Object.entries(expected)) {
    for (const [reason, chains] of Object.entries(reasons)) {
      for (const [chain, n] of Object.entries(chains)) {
        expect(md).toContain(`| ${table} | ${reason} | ${n} | ${chain} |`);
        expect(html).toContain(`<tr><td>${table}</td><td>${reason}</td><td>${n}</td><td>${chain}</td></tr>`);
      }
    }
  }
  expect(md).toContain(`| ${fromTestAccounts} |`);
}, 180000);
