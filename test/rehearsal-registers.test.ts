// Rehearsal through the real workflow on real PostgreSQL, for what depends on Production as it is:
//  - a Production-side erasure register (db: target) under the default backup scope (touched-tables,
//    which leaves the register's rows out of the backup) is in the rehearsal: the rehearsal leaves
//    the erased person behind, its counts equal the dry run's and the run's (the test's own SQL), the
//    comparison with the dry run says so, and the md report shows the rehearsal;
//  - a rehearsal that fails on a row of Production (a duplicate e-mail under a unique constraint)
//    pauses with the database's constraint and DETAIL in its error; on-call deletes the row and
//    retries: a fresh target backup is taken (the first stays recorded), the rehearsal passes on
//    Production as it is now, and the run completes;
//  - a request added to Production's register after the dry run makes the rehearsal differ from
//    it: the difference, explained, is in the report, in status, first in gate cutover's details,
//    and an open item of the evidence.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { approveSignal, rejectSignal, resumeUpdate, type EvidencePack, type StatusView } from '../common/temporal';
import { buildEvidence } from '../common/evidence';
import { formatStatus } from '../client/format/status';
import type { RehearsalReport } from '../common/results';
import { formatReportMarkdown } from '../client/format/report-md';
import { formatReportHtml } from '../client/format/report-html';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { acknowledging, atGate, paused, record, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';

const SCHEMA = `
CREATE TABLE customer (customer_id serial PRIMARY KEY, email text NOT NULL CONSTRAINT customer_email_key UNIQUE, name text);
CREATE TABLE orders (order_id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customer, total numeric NOT NULL);
CREATE TABLE erasure_request (customer_id int NOT NULL, at timestamptz NOT NULL DEFAULT now());
`;
const PILOT =
  SCHEMA +
  `
INSERT INTO customer (email, name) SELECT 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 6) g;
INSERT INTO orders (customer_id, total) SELECT 1 + (g % 6), g FROM generate_series(1, 12) g;
`;
// Production's own customers take ids 1–3; Pilot customer 5 asked Production to be erased.
const PRODUCTION =
  SCHEMA +
  `
INSERT INTO customer (email, name) VALUES ('p1@prod.example', 'P1'), ('p2@prod.example', 'P2'), ('p3@prod.example', 'P3');
INSERT INTO orders (customer_id, total) VALUES (1, 10), (2, 20);
INSERT INTO erasure_request (customer_id) VALUES (5);
`;

const plan = (id: string) => ({
  version: 1,
  id,
  strategy: 'selective',
  source: 'pilot',
  target: 'production',
  approvals: { approvers: ['bob'], required: 1, timeout: '1h' },
  backup: { store: `file://${mkdtempSync(path.join(tmpdir(), 'cutover-rr-'))}` }, // scope: touched-tables (default)
  rehearsal: { mode: 'scratch' },
  tables: [
    { table: 'customer', select: { all: true }, ids: 'new' },
    { table: 'orders', select: { follow: ['customer_id'] }, ids: 'new' },
  ],
  subjects: { table: 'customer', key: 'customer_id' },
  erasure: { registers: [{ db: 'target', table: 'erasure_request', subject: 'customer_id' }] },
});

const h = useHarness('cutover_rr', PILOT);
const n = async (url: string, sql: string) => Number((await rows<{ n: string }>(url, `SELECT count(*)::text AS n FROM (${sql}) s`))[0].n);
/** Pilot customers and their orders now in Production, by e-mail (the test's own SQL). */
const movedCustomers = (prod: string) => n(prod, "SELECT 1 FROM customer WHERE email LIKE 'c%@example.com'");
const movedOrders = (prod: string) =>
  n(prod, "SELECT 1 FROM orders o JOIN customer c USING (customer_id) WHERE c.email LIKE 'c%@example.com'");

test("a Production-side erasure register is in the rehearsal under the default backup scope: its counts are the dry run's and the run's; the md and html reports show it", async () => {
  const prod = await h.production(PRODUCTION);
  const handle = await startRun(h.env, plan('rr-register'));
  await waitFor(handle, atGate('plan'));
  const dry = ((await handle.query('report')) as EvidencePack).dryRun!;
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  const view = await waitFor(handle, atGate('cutover'), 180000);
  const r = ((await handle.query('report')) as EvidencePack & { rehearsal: RehearsalReport }).rehearsal;
  expect(r.ok).toBe(true);

  // What the Pilot and Production hold, by the test's own SQL: customer 5 and their 2 orders stay.
  const [customers, orders] = [
    await n(h.pilot, 'SELECT 1 FROM customer WHERE customer_id <> 5'),
    await n(h.pilot, 'SELECT 1 FROM orders WHERE customer_id <> 5'),
  ];
  expect([customers, orders]).toEqual([5, 10]);
  const byTable = (t: string) => r.tables.find((x) => x.table === t)!;
  expect([byTable('public.customer').moved, byTable('public.orders').moved]).toEqual([customers, orders]);
  expect(byTable('public.customer').leftBehindByReason).toEqual({ 'erasure-request': 1 });
  // Table by table, the dry run's counts.
  for (const d of dry.tables) {
    expect([
      d.table,
      byTable(d.table).inScope,
      byTable(d.table).moved,
      byTable(d.table).merged,
      byTable(d.table).leftBehindByReason,
    ]).toEqual([d.table, d.inScope, d.toMove, d.merged, d.leftBehind]);
  }
  expect(r.registersCopied).toEqual([{ table: 'public.erasure_request', rows: 1 }]);
  expect(r.dryRunComparison).toMatchObject({ equal: true, differences: [] });
  expect(view.rehearsal).toMatchObject({ ok: true, sameAsDryRun: true, differences: [] });

  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob', rehearsalHash: r.rehearsalHash });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  // The run moved what the rehearsal moved: customer 5 is not in Production.
  expect([await movedCustomers(prod), await movedOrders(prod)]).toEqual([customers, orders]);
  expect(await n(prod, "SELECT 1 FROM customer WHERE email = 'c5@example.com'")).toBe(0);

  // The md report shows the rehearsal: outcome, hash, per-table counts and the comparison.
  const md = formatReportMarkdown(result.evidence!);
  expect(md).toContain('\n## Rehearsal\n');
  const section = md.slice(md.indexOf('\n## Rehearsal\n'));
  expect(section).toContain(r.rehearsalHash);
  expect(section).toContain('- **outcome**: ok');
  expect(section).toContain('### Rehearsal: rows per table');
  expect(section).toMatch(/\|\s*public\.customer\s*\|\s*6\s*\|\s*5\s*\|\s*0\s*\|\s*1\s*\|\s*erasure-request=1/);
  expect(section).toContain("Every table's counts equal the approved dry run's.");
  expect(section).toContain('public.erasure_request: 1 row(s) read from Production');
  const html = formatReportHtml(result.evidence!);
  expect(html).toContain(r.rehearsalHash);
  expect(html).toContain('Rehearsal against the approved dry run');
}, 300000);

test('a rehearsal failed by a Production row carries the database detail; fixed in Production and retried, it passes on a fresh target backup and the run completes', async () => {
  // Production already has a customer with Pilot customer 2's e-mail: the scratch publish breaks the unique constraint.
  const prod = await h.production(PRODUCTION + "INSERT INTO customer (email, name) VALUES ('c2@example.com', 'dup');");
  const handle = await startRun(h.env, plan('rr-retry'));
  const atPlan = await waitFor(handle, atGate('plan'));
  // The dry run predicts the unique e-mail conflict: approving acknowledges it.
  expect(atPlan.mustAcknowledge?.map((x) => x.reason)).toEqual(['conflict:public.customer:customer_email_key']);
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob', ...acknowledging(atPlan) });
  const failed = await waitFor(handle, paused, 180000);
  expect([failed.phase, failed.error?.type]).toEqual(['rehearsal', 'RehearsalError']);
  expect(failed.error?.message).toMatch(/rehearsal failed at publish \(ConstraintViolation\)/);
  expect(failed.error?.message).toContain('constraint customer_email_key');
  expect(failed.error?.message).toMatch(/DETAIL: Key \(email\)=/);
  const first = (await handle.query('report')) as EvidencePack & { rehearsal: RehearsalReport };
  expect(first.rehearsal.failed?.database).toMatchObject({ code: '23505', constraint: 'customer_email_key', table: 'customer' });
  expect(first.rehearsal.failed?.database?.detail).toMatch(/^Key \(email\)=/);
  const firstTarget = first.backups!.backups.find((b) => b.kind === 'target')!;
  expect(first.rehearsal.backup.sha256).toBe(firstTarget.sha256);

  // On-call removes the duplicate from Production and retries the rehearsal.
  await rows(prod, "DELETE FROM customer WHERE email = 'c2@example.com' AND name = 'dup'");
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'removed the duplicate e-mail' }] });
  const view = await waitFor(handle, atGate('cutover'), 180000);
  expect(view.rehearsal).toMatchObject({ ok: true, rollbackProven: true, failed: null });
  const again = (await handle.query('report')) as EvidencePack & { rehearsal: RehearsalReport };
  // A fresh target backup, first in the list and the one rehearsed; the first one is still recorded.
  const targets = again.backups!.backups.filter((b) => b.kind === 'target');
  expect(targets).toHaveLength(2);
  expect(targets[1].location).toBe(firstTarget.location);
  expect(targets[0].location).not.toBe(firstTarget.location);
  expect(targets[0].note).toMatch(/retried/);
  expect(again.backups!.backups.filter((b) => b.kind === 'source')).toHaveLength(1);
  expect(again.rehearsal.backup.location).toBe(targets[0].location);
  expect(view.steps.filter((s) => ['backup', 'rehearsal'].includes(s.step)).map((s) => `${s.step} ${s.outcome}`)).toEqual([
    'backup started',
    'backup completed',
    'rehearsal started',
    'rehearsal failed',
    'rehearsal retried',
    'rehearsal started',
    'backup started',
    'backup completed',
    'rehearsal completed',
  ]);

  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob', rehearsalHash: again.rehearsal.rehearsalHash });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  expect([await movedCustomers(prod), await movedOrders(prod)]).toEqual([5, 10]);
  expect(again.rehearsal.tables.find((t) => t.table === 'public.customer')!.moved).toBe(5);
  await record(handle, 'rehearsal-retry'); // the replay test guards the fresh backup before the retried rehearsal
}, 400000);

test("a rehearsal that differs from the dry run (a request added to Production's register since) says why: at gate cutover, in status and as an open item", async () => {
  const prod = await h.production(PRODUCTION);
  const handle = await startRun(h.env, plan('rr-differs'));
  await waitFor(handle, atGate('plan'));
  // Pilot customer 4 asks Production to be erased after the dry run counted.
  await rows(prod, 'INSERT INTO erasure_request (customer_id) VALUES (4)');
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  const view = await waitFor(handle, atGate('cutover'), 180000);
  const r = ((await handle.query('report')) as EvidencePack & { rehearsal: RehearsalReport }).rehearsal;
  expect(r.ok).toBe(true);
  expect(r.tables.find((t) => t.table === 'public.customer')).toMatchObject({ moved: 4, leftBehindByReason: { 'erasure-request': 2 } });
  expect(r.dryRunComparison?.equal).toBe(false);
  const customer = r.dryRunComparison!.differences.find((d) => d.startsWith('public.customer:'))!;
  expect(customer).toMatch(/erasure requests changed since the dry run in Production's register\(s\) \(1 then, 2 at the rehearsal\)/);
  expect(view.rehearsal).toMatchObject({ sameAsDryRun: false, differences: r.dryRunComparison!.differences });
  expect(formatStatus(view)).toContain(`DIFFERS FROM THE DRY RUN: ${customer}`);
  // The UI's details at gate cutover: the difference right after the gate line.
  const details = ((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';
  const lines = details.split('\n\n');
  const gateLine = lines.findIndex((l) => /^Awaiting approval of gate `cutover`/.test(l));
  expect(gateLine).toBeGreaterThan(0);
  expect(lines[gateLine + 1]).toContain('**The rehearsal differs from the approved dry run**');
  expect(lines[gateLine + 1]).toContain(customer);

  await handle.signal(rejectSignal, { gate: 'cutover', approver: 'bob', reason: 'the rehearsal differs from the dry run' });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('rejected');
  expect(buildEvidence(result.evidence!).openItems).toContain(`The rehearsal's counts differ from the approved dry run: ${customer}`);
  expect(await movedCustomers(prod)).toBe(0);
}, 300000);
