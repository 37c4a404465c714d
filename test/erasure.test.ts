// Erasure re-application after publish, through the real workflow on real PostgreSQL. Customers get
// new ids in production (ids: new), so a Pilot subject key must be translated through cutover.id_map.
// A request registered in production while the run waits at gate cutover is caught by cleanup (the
// person never moves; the dry run's counts are what they were). Requests that arrive while the run is
// paused after publish — one in production's register, one in the Pilot's — are applied by step
// erasure: the subjects' customer, order and order-line rows are gone from production (the test's
// own SQL), their reviews kept but anonymized (erasure.anonymize), zero residue, one erasure_log row
// per subject and table naming the register and both keys. The final pass (erasure-final) catches a
// request that arrives after the first pass and logs nothing twice.
import { MockActivityEnvironment } from '@temporalio/testing';
import { erasure } from '../activities/erasure';
import type { ErasureResult, StepInput } from '../common/results';
import { approveSignal, resumeUpdate, type EvidencePack, type StatusView } from '../common/temporal';
import { buildEvidence } from '../common/evidence';
import { useHarness } from './helpers/harness';
import { PILOT, PRODUCTION } from './helpers/erasure-shop';
import { checkerRole, rows } from './helpers/pg';
import { atGate, paused, startRun, waitFor } from './helpers/run';
import { publishRun, schemaChecked } from './helpers/steps';
import { runResult } from './helpers/run-result';

const ANONYMIZE = [{ table: 'review', columns: { customer_id: null, body: '[erased]' } }];

function plan(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    id,
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['bob'], required: 1, timeout: '1h' },
    rehearsal: { mode: 'skip' },
    tables: [
      { table: 'customer', select: { all: true }, ids: 'new' },
      { table: 'orders', select: { follow: ['customer_id'] }, ids: 'new' },
      { table: 'order_line', select: { follow: ['order_id'] }, ids: 'new' },
      { table: 'review', select: { follow: ['customer_id'] }, ids: 'new' },
    ],
    subjects: { table: 'customer', key: 'customer_id' },
    erasure: {
      registers: [
        { db: 'source', table: 'erasure_request', subject: 'customer_id' },
        { db: 'target', table: 'erasure_request', subject: 'customer_id' },
      ],
      anonymize: ANONYMIZE,
    },
    ...extra,
  };
}

const h = useHarness('cutover_er', PILOT);
/** Access checks run as a role that can only read (accessCheckRole), never as the tests' superuser. */
const checker = checkerRole('cutover_er');
afterAll(() => checker.drop());
const n = async (url: string, sql: string, params: unknown[] = []) =>
  Number((await rows<{ n: string }>(url, `SELECT count(*)::text AS n FROM (${sql}) s`, params))[0].n);
/** A Pilot row's production key, by the test's own read of cutover.id_map. */
const prodKey = async (prod: string, runKey: string, table: string, pilotKey: number) =>
  Number(
    (
      await rows<{ k: string }>(
        prod,
        `SELECT new_key->>0 AS k FROM cutover.id_map WHERE run_key = $1 AND table_name = $2 AND old_key = $3::jsonb`,
        [runKey, table, `[${pilotKey}]`],
      )
    )[0]?.k,
  );
/** Production rows of one (production) customer: own row, orders, their lines, reviews still pointing at them. */
const rowsOf = async (prod: string, c: number) => ({
  customer: await n(prod, 'SELECT 1 FROM customer WHERE customer_id = $1', [c]),
  orders: await n(prod, 'SELECT 1 FROM orders WHERE customer_id = $1', [c]),
  lines: await n(prod, 'SELECT 1 FROM order_line l JOIN orders o USING (order_id) WHERE o.customer_id = $1', [c]),
  reviews: await n(prod, 'SELECT 1 FROM review WHERE customer_id = $1', [c]),
});

test('requests arriving after stage are applied after publish: rows gone (reviews anonymized), zero residue, logged; a cutover-gate request is caught by cleanup; the dry run is unaffected', async () => {
  const prod = await h.production(PRODUCTION + "INSERT INTO hold VALUES ('on-call looks first');" + checker.sql);
  const handle = await startRun(
    h.env,
    plan('er-flow', { accessChecks: [{ name: 'hold', sql: 'SELECT why FROM hold' }], accessCheckRole: checker.name }),
  );
  await waitFor(handle, atGate('plan'));
  const dry = ((await handle.query('report')) as EvidencePack).dryRun!;
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, atGate('cutover'));
  // Pilot customer 5 asks to be erased in production's register while the run waits: cleanup leaves them behind.
  await rows(prod, 'INSERT INTO erasure_request (customer_id) VALUES (5)');
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
  const pausedView = await waitFor(handle, paused, 120000);
  expect([pausedView.phase, pausedView.error?.type]).toEqual(['access-checks', 'AccessCheckError']);
  const runKey = ((await handle.query('report')) as EvidencePack).runKey;

  // The dry run's counts are its own: customer 6 (the Pilot's request) only.
  const dryCustomer = dry.tables.find((t) => t.table === 'public.customer')!;
  expect(dryCustomer).toMatchObject({ inScope: 6, toMove: 5, leftBehind: { 'erasure-request': 1 } });
  expect(await n(prod, "SELECT 1 FROM customer WHERE email IN ('c5@example.com', 'c6@example.com')")).toBe(0);
  expect(
    await n(prod, "SELECT 1 FROM cutover.manifest WHERE run_key = $1 AND table_name = 'public.customer' AND reason = 'erasure-request'", [
      runKey,
    ]),
  ).toBe(2);

  // While paused after publish: Pilot customer 2 asks in production's register, customer 3 in the Pilot's.
  const [c2, c3, c1] = [
    await prodKey(prod, runKey, 'public.customer', 2),
    await prodKey(prod, runKey, 'public.customer', 3),
    await prodKey(prod, runKey, 'public.customer', 1),
  ];
  expect(c2).toBeGreaterThan(3); // a new id: the Pilot key 2 is production's own customer P2
  const before = { c1: await rowsOf(prod, c1), c2: await rowsOf(prod, c2), c3: await rowsOf(prod, c3), p2: await rowsOf(prod, 2) };
  expect(before.c2).toEqual({ customer: 1, orders: 2, lines: 4, reviews: 1 });
  await rows(prod, 'INSERT INTO erasure_request (customer_id) VALUES (2)');
  await rows(h.pilot, 'INSERT INTO erasure_request (customer_id) VALUES (3)');
  const reviewOf2 = await prodKey(prod, runKey, 'public.review', 2);

  await rows(prod, 'DELETE FROM hold');
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'looked' }] });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  await rows(h.pilot, 'DELETE FROM erasure_request WHERE customer_id = 3');

  // Gone from production by the test's own SQL; reviews kept, anonymized; everyone else untouched.
  expect(await rowsOf(prod, c2)).toEqual({ customer: 0, orders: 0, lines: 0, reviews: 0 });
  expect(await rowsOf(prod, c3)).toEqual({ customer: 0, orders: 0, lines: 0, reviews: 0 });
  expect(await rows(prod, 'SELECT customer_id, body, stars FROM review WHERE review_id = $1', [reviewOf2])).toEqual([
    { customer_id: null, body: '[erased]', stars: 3 },
  ]);
  expect(await rowsOf(prod, c1)).toEqual(before.c1);
  expect(await rowsOf(prod, 2)).toEqual(before.p2); // production's own customer 2 (the Pilot key) is not touched
  expect(await n(prod, 'SELECT 1 FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customer c WHERE c.customer_id = o.customer_id)')).toBe(0);

  // One log row per subject and table: register, Pilot key, production key, rows, step.
  const log = await rows<{
    register: string;
    subject: number;
    production_subject: number[];
    table_name: string;
    rows: number;
    action: string;
    step: string;
  }>(
    prod,
    "SELECT register, subject, production_subject, table_name, rows, action, step FROM cutover.erasure_log WHERE run_key = $1 AND step <> 'cleanup' ORDER BY subject::text, table_name",
    [runKey],
  );
  // The requests cleanup applied (by not moving the subject) are logged too, from each register.
  expect(
    await rows(
      prod,
      "SELECT register, subject, table_name, action FROM cutover.erasure_log WHERE run_key = $1 AND step = 'cleanup' ORDER BY subject::text",
      [runKey],
    ),
  ).toEqual([
    { register: 'target:public.erasure_request', subject: 5, table_name: 'public.customer', action: 'not-moved (left behind in staging)' },
    { register: 'source:public.erasure_request', subject: 6, table_name: 'public.customer', action: 'not-moved (left behind in staging)' },
  ]);
  expect(log).toEqual([
    {
      register: 'target:public.erasure_request',
      subject: 2,
      production_subject: [c2],
      table_name: 'public.customer',
      rows: 1,
      action: 'erased-after-publish',
      step: 'erasure',
    },
    {
      register: 'target:public.erasure_request',
      subject: 2,
      production_subject: [c2],
      table_name: 'public.order_line',
      rows: 4,
      action: 'erased-after-publish',
      step: 'erasure',
    },
    {
      register: 'target:public.erasure_request',
      subject: 2,
      production_subject: [c2],
      table_name: 'public.orders',
      rows: 2,
      action: 'erased-after-publish',
      step: 'erasure',
    },
    {
      register: 'target:public.erasure_request',
      subject: 2,
      production_subject: [c2],
      table_name: 'public.review',
      rows: 1,
      action: 'anonymized-after-publish',
      step: 'erasure',
    },
    ...['public.customer', 'public.order_line', 'public.orders', 'public.review'].map((t) =>
      expect.objectContaining({
        register: 'source:public.erasure_request',
        subject: 3,
        production_subject: [c3],
        table_name: t,
        step: 'erasure',
      }),
    ),
  ]);

  // Both passes ran; the evidence says what was found, applied and that the residue is 0.
  const steps = result.steps.filter((s) => s.step.startsWith('erasure') && s.outcome !== 'started').map((s) => [s.step, s.outcome]);
  expect(steps).toEqual([
    ['erasure', 'completed'],
    ['erasure-final', 'completed'],
  ]);
  const pack = buildEvidence((await handle.query('report')) as EvidencePack);
  expect(pack.erasure).toMatchObject({ requestsFound: 4, appliedInProduction: true, applied: 2, residue: 0 });
  expect(pack.erasure.passes.map((p) => [p.step, p.applied, p.residue])).toEqual([
    ['erasure', 2, 0],
    ['erasure-final', 0, 0],
  ]);
  expect(pack.openItems.join('\n')).not.toMatch(/[Ee]rasure/);
}, 240000);

test('the final pass catches a request that arrived after the first, logs nothing twice; a residue is refused as ErasureResidue', async () => {
  const prod = await h.production(PRODUCTION);
  const p = schemaChecked(plan('er-final'));
  const { input } = await publishRun(prod, p, 'erfinal1');
  const env = new MockActivityEnvironment();
  const run = (step: 'erasure' | 'erasure-final') => env.run(erasure, { ...(input as StepInput), step }) as Promise<ErasureResult>;
  const first = await run('erasure');
  expect(first).toMatchObject({ requests: 1, movedSubjects: 5, applied: 0, residue: 0 });

  const c4 = await prodKey(prod, 'erfinal1', 'public.customer', 4);
  await rows(prod, 'INSERT INTO erasure_request (customer_id) VALUES (4)');
  const final = await run('erasure-final');
  expect(final).toMatchObject({
    requests: 2,
    applied: 1,
    erasedSoFar: 1,
    residue: 0,
    rows: { 'public.customer': 1, 'public.orders': 2, 'public.order_line': 4, 'public.review': 1 },
    anonymized: { 'public.review': 1 },
  });
  expect(final.applications).toEqual([
    expect.objectContaining({ register: 'target:public.erasure_request', subject: '4', productionSubject: `[${c4}]` }),
  ]);
  expect(await rowsOf(prod, c4)).toEqual({ customer: 0, orders: 0, lines: 0, reviews: 0 });
  const logged = await n(prod, "SELECT 1 FROM cutover.erasure_log WHERE run_key = 'erfinal1'");
  expect(await run('erasure-final')).toMatchObject({ applied: 0, erasedSoFar: 1, residue: 0 });
  expect(await n(prod, "SELECT 1 FROM cutover.erasure_log WHERE run_key = 'erfinal1'")).toBe(logged);

  // Residue: a review that still names the erased customer's production key (written with the FK not enforced) fails the check.
  await rows(prod, 'ALTER TABLE review DROP CONSTRAINT review_customer_id_fkey');
  await rows(prod, "INSERT INTO review (customer_id, body, stars) VALUES ($1, 'sneaked back', 1)", [c4]);
  await rows(prod, 'ALTER TABLE review ADD CONSTRAINT review_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customer NOT VALID');
  await expect(run('erasure-final')).rejects.toMatchObject({
    type: 'ErasureResidue',
    message: expect.stringContaining('public.review: 1 row(s) reference a missing public.customer row'),
  });
}, 120000);
