// The run moves what was approved (issue 21, deliverable 3). Pilot rows added after gate plan, and a
// Pilot column dropped after it, send the run back to gate plan with a new dry run (the earlier
// approvals voided), and what finally moves is what the second approval saw; a plan's
// drift.tolerate lets a small change through, recorded. Judged by the test's own SQL on Production.
import { approveSignal, type EvidencePack, type StatusView } from '../common/temporal';
import { buildEvidence } from '../common/evidence';
import { formatReportMarkdown } from '../client/format/report-md';
import { compareWithApproved } from '../workflows/drift';
import type { DryRunReport } from '../common/results';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { atGate, startRun, waitFor } from './helpers/run';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, storeOnePlan } from './helpers/shop';
import { runResult } from './helpers/run-result';

const h = useHarness('cutover_drift', SHOP_SCHEMA + SHOP_PILOT);

const dry = (tables: DryRunReport['tables'], catalog?: DryRunReport['catalog']): DryRunReport =>
  ({ planId: 'x', planHash: 'h', source: 's', target: 't', order: [], tables, warnings: [], at: '', catalog }) as DryRunReport;
const table = (name: string, inScope: [number, string], kept: [number, string]) =>
  ({
    table: name,
    digests: { inScope: { rows: inScope[0], digest: inScope[1] }, kept: { rows: kept[0], digest: kept[1] } },
  }) as DryRunReport['tables'][number];

describe('compareWithApproved (pure)', () => {
  const approved = dry([table('public.a', [3, 'x'], [2, 'y'])], {
    'public.a': { pilot: ['column id integer not null'], production: ['column id integer not null'] },
  });

  test('no difference, or a dry run from before digests: nothing', () => {
    expect(compareWithApproved('stage', approved, { keys: { 'public.a': { rows: 3, digest: 'x' } } }, undefined)).toBeNull();
    expect(
      compareWithApproved(
        'stage',
        dry([{ table: 'public.a' } as DryRunReport['tables'][number]]),
        { keys: { 'public.a': { rows: 9, digest: 'z' } } },
        undefined,
      ),
    ).toBeNull();
    expect(compareWithApproved('stage', approved, {}, undefined)).toBeNull();
  });

  test('rows added: a drift, tolerated only within drift.tolerate.rows', () => {
    const found = { keys: { 'public.a': { rows: 5, digest: 'z' } } };
    expect(compareWithApproved('stage', approved, found, undefined)).toMatchObject({
      tolerated: false,
      tables: [{ table: 'public.a', approvedRows: 3, rowsNow: 5, atLeastChanged: 2 }],
    });
    expect(compareWithApproved('stage', approved, found, 1)?.tolerated).toBe(false);
    expect(compareWithApproved('stage', approved, found, 2)?.tolerated).toBe(true);
  });

  test('same count, other keys: at least 2 rows changed; cleanup compares the kept keys', () => {
    expect(
      compareWithApproved('cleanup', approved, { keys: { 'public.a': { rows: 2, digest: 'other' } } }, undefined)?.tables[0].atLeastChanged,
    ).toBe(2);
    expect(compareWithApproved('cleanup', approved, { keys: { 'public.a': { rows: 2, digest: 'y' } } }, undefined)).toBeNull();
  });

  test('a catalog change is never tolerated, and says what changed', () => {
    const d = compareWithApproved(
      'stage',
      approved,
      {
        keys: { 'public.a': { rows: 3, digest: 'x' } },
        catalog: { 'public.a': { pilot: [], production: ['column id integer not null'] } },
      },
      1000,
    );
    expect(d).toMatchObject({
      tolerated: false,
      catalog: [{ table: 'public.a', side: 'pilot', removed: ['column id integer not null'], added: [] }],
    });
  });
});

const storeOne = storeOnePlan;

const movedEmails = async (prod: string) =>
  (await rows<{ email: string }>(prod, "SELECT email FROM customer WHERE email NOT LIKE '%@prod.example' ORDER BY email")).map(
    (r) => r.email,
  );

test('Pilot rows added after gate plan: back to gate plan, the approvals voided; the second approval moves the new rows', async () => {
  const prod = await h.production(SHOP_SCHEMA + SHOP_PRODUCTION);
  const handle = await startRun(h.env, storeOne('drift-rows'));
  const first = await waitFor(handle, atGate('plan'));
  const approvedToMove = first.progress['public.customer'].rowsTotal;
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, atGate('cutover'));
  // After the approvals: two more store-1 customers appear in the Pilot.
  await rows(
    h.pilot,
    "INSERT INTO customer (email, store_id, country_id, address_id) VALUES ('late1@example.com', 1, 1, 1), ('late2@example.com', 1, 2, 2)",
  );
  await rows(h.pilot, "INSERT INTO customer_consent SELECT customer_id, 'granted' FROM customer WHERE email LIKE 'late%'");
  try {
    await handle.signal(approveSignal, { gate: 'cutover', approver: 'carol' });
    const again = await waitFor(handle, (s) => atGate('plan')(s) && (s.drift?.length ?? 0) > 0);
    expect(again.approvals).toEqual([]);
    expect(again.drift![0]).toMatchObject({ at: 'stage', tolerated: false });
    expect(again.drift![0].tables.find((t) => t.table === 'public.customer')).toMatchObject({
      rowsNow: again.drift![0].tables.find((t) => t.table === 'public.customer')!.approvedRows + 2,
    });
    expect(again.progress['public.customer'].rowsTotal).toBe(approvedToMove + 2);
    expect(
      again.steps.some((x) => x.step === 'gate:plan' && x.outcome === 'retried' && /changed since gate plan/.test(x.detail ?? '')),
    ).toBe(true);
    // Nothing was published before the second approval.
    expect(await movedEmails(prod)).toEqual([]);
    await handle.signal(approveSignal, { gate: 'plan', approver: 'bob', comment: 'seen the two late customers' });
    await waitFor(handle, atGate('cutover'));
    await handle.signal(approveSignal, { gate: 'cutover', approver: 'carol' });
    const done = (await runResult(handle)) as StatusView & { evidence: EvidencePack };
    expect(done.status).toBe('completed');
    const doc = buildEvidence(done.evidence);
    expect(doc.voidedApprovals?.map((a) => a.gate)).toEqual(['plan', 'cutover']);
    expect(doc.drift).toHaveLength(1);
    const md = formatReportMarkdown(done.evidence);
    expect(md).toContain('Changes since gate plan (drift)');
    expect(md).toMatch(/public\.customer \| \d+ \| \d+ \| {2}\| back to gate plan/);
    expect(await movedEmails(prod)).toEqual(expect.arrayContaining(['late1@example.com', 'late2@example.com']));
  } finally {
    await rows(h.pilot, "DELETE FROM customer_consent WHERE customer_id IN (SELECT customer_id FROM customer WHERE email LIKE 'late%')");
    await rows(h.pilot, "DELETE FROM customer WHERE email LIKE 'late%'");
  }
}, 240000);

test('within drift.tolerate the run goes on and records the change; a dropped Pilot column is never tolerated', async () => {
  const prod = await h.production(SHOP_SCHEMA + SHOP_PRODUCTION);
  const handle = await startRun(h.env, storeOne('drift-tolerated', { drift: { tolerate: { rows: 1 } } }));
  await waitFor(handle, atGate('plan'));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, atGate('cutover'));
  await rows(h.pilot, "INSERT INTO customer (email, store_id, country_id, address_id) VALUES ('late3@example.com', 1, 1, 3)");
  await rows(h.pilot, "INSERT INTO customer_consent SELECT customer_id, 'granted' FROM customer WHERE email = 'late3@example.com'");
  try {
    await handle.signal(approveSignal, { gate: 'cutover', approver: 'carol' });
    const done = (await runResult(handle)) as StatusView;
    expect(done.status).toBe('completed');
    // Seen at stage (in scope) and again at cleanup (kept). The address it references was in the dry
    // run as no longer referenced (its customer had withdrawn consent): counted alike, no drift there.
    expect(done.drift).toHaveLength(2);
    expect(done.drift![0]).toMatchObject({ at: 'stage', tolerated: true, tables: [{ table: 'public.customer', atLeastChanged: 1 }] });
    expect(done.drift![1]).toMatchObject({ at: 'cleanup', tolerated: true });
    expect(done.drift![1].tables.map((t) => t.table)).toEqual(['public.customer']);
    expect(await movedEmails(prod)).toContain('late3@example.com');
  } finally {
    await rows(
      h.pilot,
      "DELETE FROM customer_consent WHERE customer_id IN (SELECT customer_id FROM customer WHERE email = 'late3@example.com')",
    );
    await rows(h.pilot, "DELETE FROM customer WHERE email = 'late3@example.com'");
  }

  // A nullable column both sides have; dropped from the Pilot after approval it would publish NULLs.
  await rows(h.pilot, 'ALTER TABLE customer ADD COLUMN nickname text');
  const prod2 = await h.production(SHOP_SCHEMA + 'ALTER TABLE customer ADD COLUMN nickname text;' + SHOP_PRODUCTION);
  const second = await startRun(h.env, storeOne('drift-column', { drift: { tolerate: { rows: 1000 } } }));
  await waitFor(second, atGate('plan'));
  await second.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(second, atGate('cutover'));
  await rows(h.pilot, 'ALTER TABLE customer DROP COLUMN nickname');
  try {
    await second.signal(approveSignal, { gate: 'cutover', approver: 'carol' });
    const again = await waitFor(second, (s) => atGate('plan')(s) && (s.drift?.length ?? 0) > 0);
    expect(again.drift![0]).toMatchObject({
      tolerated: false,
      catalog: [{ table: 'public.customer', side: 'pilot', removed: ['column nickname text'], added: [] }],
    });
    expect(again.approvals).toEqual([]);
    expect(await rows(prod2, "SELECT count(*)::int AS n FROM customer WHERE email NOT LIKE '%@prod.example'")).toEqual([{ n: 0 }]);
  } finally {
    await second.terminate('test over').catch(() => undefined);
  }
}, 300000);

test('an erasure request that arrives after approval is honoured by cleanup, not a drift: the run goes on and the person does not move', async () => {
  const prod = await h.production(SHOP_SCHEMA + SHOP_PRODUCTION);
  const handle = await startRun(h.env, storeOne('drift-erasure'));
  await waitFor(handle, atGate('plan'));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, atGate('cutover'));
  await rows(h.pilot, "INSERT INTO erasure_request (customer_id) SELECT customer_id FROM customer WHERE email = 'c7@example.com'");
  try {
    await handle.signal(approveSignal, { gate: 'cutover', approver: 'carol' });
    const done = (await handle.result()) as StatusView;
    expect(done.status).toBe('completed');
    expect(done.drift ?? []).toEqual([]);
    const moved = await movedEmails(prod);
    expect(moved).not.toContain('c7@example.com');
    expect(moved).toContain('c1@example.com');
  } finally {
    await rows(
      h.pilot,
      "DELETE FROM erasure_request WHERE customer_id IN (SELECT customer_id FROM customer WHERE email = 'c7@example.com')",
    );
  }
}, 240000);
