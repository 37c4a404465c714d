// Step notices (common/steps/notices.ts, activities/notices.ts) through the real workflow on real
// PostgreSQL and a file backup store: a plan with `notices: {}` ends with one outcome per subject in
// notices.csv and notices.json next to the evidence pack. Customers are matched by email (ids: match):
// Pilot customer 1 is Production's own (merged), 2–4 get new ids (moved), 5 is test data and 6 asked
// the Pilot's register to be erased before the run (left behind, each with its reason), and 2 asks
// Production's register while the run is paused after publish (erased by step erasure). The test
// reads the files from the store itself, hashes them with its own code against the evidence, and
// derives each expected new id from Production's rows by email, not from the run's id map.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { approveSignal, resumeUpdate, type StatusView } from '../common/temporal';
import { buildEvidence, type EvidenceDocument } from '../common/evidence';
import { formatReportMarkdown } from '../client/format/report-md';
import { validatePlan } from '../plan';
import { useHarness } from './helpers/harness';
import { checkerRole, rows } from './helpers/pg';
import { atGate, paused, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';

const SCHEMA = `
CREATE TABLE customer (customer_id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text);
CREATE TABLE orders (order_id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customer, total numeric NOT NULL);
CREATE TABLE erasure_request (customer_id int NOT NULL);
`;
const PILOT =
  SCHEMA +
  `
INSERT INTO customer (email, name) SELECT 'c' || g || '@example.com', CASE WHEN g = 5 THEN 'Test' ELSE 'Customer ' || g END FROM generate_series(1, 6) g;
INSERT INTO orders (customer_id, total) SELECT 1 + (g % 6), g FROM generate_series(1, 12) g;
INSERT INTO erasure_request (customer_id) VALUES (6);
`;
// Production's own customers take ids 1–3; its customer 2 is the Pilot's customer 1 (same email).
const PRODUCTION =
  SCHEMA +
  `
INSERT INTO customer (email, name) VALUES ('p1@prod.example', 'P1'), ('c1@example.com', 'Customer 1'), ('p3@prod.example', 'P3');
CREATE TABLE hold (why text);
INSERT INTO hold VALUES ('on-call looks first');
`;

const h = useHarness('stepmod_nt', PILOT);
const checker = checkerRole('stepmod_nt');
const store = mkdtempSync(path.join(tmpdir(), 'stepmod-notices-'));
afterAll(() => {
  rmSync(store, { recursive: true, force: true });
  return checker.drop();
});

const plan = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  version: 1,
  id,
  strategy: 'selective',
  source: 'pilot',
  target: 'production',
  approvals: { approvers: ['bob'], required: 1, timeout: '1h' },
  backup: { store: `file://${store}` },
  tables: [
    { table: 'customer', select: { all: true }, ids: 'match', match: ['email'] },
    { table: 'orders', select: { follow: ['customer_id'] }, ids: 'new' },
  ],
  subjects: { table: 'customer', key: 'customer_id' },
  testData: [{ table: 'customer', where: [{ column: 'name', op: 'eq', value: 'Test' }], reason: 'test-account' }],
  erasure: {
    registers: [
      { db: 'source', table: 'erasure_request', subject: 'customer_id' },
      { db: 'target', table: 'erasure_request', subject: 'customer_id' },
    ],
  },
  accessChecks: [{ name: 'hold', sql: 'SELECT why FROM hold' }],
  accessCheckRole: checker.name,
  notices: {},
  ...extra,
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('notices: one outcome per subject (moved with its new id, merged, left behind with its reason, erased) as CSV and JSON, sha256 in the evidence, counts in the report', async () => {
  const prod = await h.production(PRODUCTION + checker.sql);
  const handle = await startRun(h.env, plan('nt-flow'));
  await waitFor(handle, atGate('plan'));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, atGate('cutover'), 120000);
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
  // Paused at the access checks, after publish: Pilot customer 2 asks Production's register to be erased.
  const pausedView = await waitFor(handle, paused, 120000);
  expect([pausedView.phase, pausedView.error?.type]).toEqual(['access-checks', 'AccessCheckError']);
  await rows(prod, 'INSERT INTO erasure_request (customer_id) VALUES (2)');
  await rows(prod, 'DELETE FROM hold');
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'looked' }] });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  const runKey = result.runKey;
  // The step ran after erasure-final, before finalize.
  const order = result.steps.filter((s) => s.outcome === 'completed').map((s) => s.step);
  expect(order.slice(-3)).toEqual(['erasure-final', 'notices', 'finalize']);

  // Expected, by the test's own reads: Production ids by email (customer 2 is gone from Production).
  const prodId = async (email: string) =>
    (await rows<{ id: number }>(prod, 'SELECT customer_id AS id FROM customer WHERE email = $1', [email]))[0]?.id;
  expect(await prodId('c2@example.com')).toBeUndefined();
  const [m1, n3, n4] = [await prodId('c1@example.com'), await prodId('c3@example.com'), await prodId('c4@example.com')];
  expect(m1).toBe(2);
  expect(n3).toBeGreaterThan(3);
  expect(n4).toBeGreaterThan(3);
  const csvExpected = [
    'subject,outcome,new_id,reason',
    `1,merged,${m1},`,
    '2,erased,,',
    `3,moved,${n3},`,
    `4,moved,${n4},`,
    '5,left-behind,,test-account',
    '6,left-behind,,erasure-request',
  ];

  const dir = path.join(store, 'nt-flow', runKey);
  const csv = readFileSync(path.join(dir, 'notices.csv'));
  const json = readFileSync(path.join(dir, 'notices.json'));
  expect(csv.toString('utf8').trimEnd().split('\n')).toEqual(csvExpected);
  const doc = JSON.parse(json.toString('utf8')) as { planId: string; runKey: string; table: string; subjects: unknown[] };
  expect(doc).toEqual({
    planId: 'nt-flow',
    runKey,
    table: 'public.customer',
    subjects: [
      { subject: [1], outcome: 'merged', newId: [m1], reason: null },
      { subject: [2], outcome: 'erased', newId: null, reason: null },
      { subject: [3], outcome: 'moved', newId: [n3], reason: null },
      { subject: [4], outcome: 'moved', newId: [n4], reason: null },
      { subject: [5], outcome: 'left-behind', newId: null, reason: 'test-account' },
      { subject: [6], outcome: 'left-behind', newId: null, reason: 'erasure-request' },
    ],
  });

  // The evidence pack as stored: the files' sha256 by the test's own hash, the counts, no subject key.
  const stored = JSON.parse(readFileSync(path.join(dir, 'evidence.json'), 'utf8')) as EvidenceDocument;
  const section = stored.notices!;
  expect(section).toMatchObject({
    table: 'public.customer',
    subjects: 6,
    counts: { moved: 2, merged: 1, 'left-behind': 2, erased: 1 },
    leftBehindByReason: { 'test-account': 1, 'erasure-request': 1 },
  });
  expect(section.files.map((f) => [f.format, f.sha256, f.bytes])).toEqual([
    ['csv', sha(csv), csv.length],
    ['json', sha(json), json.length],
  ]);
  expect(JSON.stringify(section)).not.toMatch(/example\.com/);
  // The pack the workflow returned builds into the same section; the report shows the counts.
  expect(buildEvidence(result.evidence!).notices).toEqual(section);
  const md = formatReportMarkdown(stored);
  expect(md).toContain('## Customer notices');
  expect(md).toMatch(/\| erased \| 1 \|/);
  expect(md).toContain(sha(csv));
}, 300000);

test('notices needs subjects and backup and a selective plan: the plan is refused, naming the key', () => {
  const base = plan('nt-refused');
  const { backup: _b, ...noBackup } = base;
  void _b;
  expect(() => validatePlan(noBackup)).toThrow('notices: requires backup (the notices are written to backup.store)');
  const { subjects: _s, erasure: _e, ...noSubjects } = base;
  void [_s, _e];
  expect(() => validatePlan(noSubjects)).toThrow('notices: requires subjects (the table and key that identify people)');
});
