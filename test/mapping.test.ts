// A Pilot whose model drifted from Production's (test/helpers/mapping.ts) moves through the real
// workflow on real PostgreSQL with a mapping: renamed tables and columns, a constant tenant, a code
// map with a default under a CHECK constraint, expressions, a widened key drawn from Production's
// identity (FKs rewritten through the id map), a personal Pilot column dropped on purpose. Every
// Production column is checked by the test's own SQL against the Pilot mapped by hand; the
// evidence's mapping section against the SQL's counts. Each refusal is tried (the dry run the
// workflow runs) with nothing written to either database. A mapped run is rolled back, and restored.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { preflight } from '../activities/preflight';
import { rollback } from '../activities/rollback';
import { erasure } from '../activities/erasure';
import { MockActivityEnvironment } from '@temporalio/testing';
import { approveSignal, resumeUpdate, type EvidencePack, type StatusView } from '../common/temporal';
import { asEvidence, type EvidenceDocument } from '../common/evidence';
import { formatReportMarkdown } from '../client/format/report-md';
import type { DryRunReport, ErasureResult } from '../common/results';
import { useHarness } from './helpers/harness';
import { checkerRole, createDb, dropDb, rows, uniqueName } from './helpers/pg';
import { atGate, paused, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';
import { failureOf, publishRun, schemaChecked } from './helpers/steps';
import {
  EXPECTED_CUSTOMERS,
  EXPECTED_NOTES,
  MAP_PILOT,
  MAP_PRODUCTION,
  mapPlan,
  PRODUCTION_CUSTOMERS,
  PRODUCTION_NOTES,
} from './helpers/mapping';

const h = useHarness('cutover_map', MAP_PILOT);

/** Content of a row set, order-independent, by the test's own SQL. */
const content = async (url: string, sql: string) =>
  (await rows<{ c: string }>(url, `SELECT coalesce(string_agg(r::text, '|' ORDER BY r::text), '') AS c FROM (${sql}) r`))[0].c;
/** Every table of a database, rows and all, and whether it has a cutover schema: "nothing written". */
const everything = async (url: string) =>
  (
    await rows<{ v: string }>(
      url,
      `SELECT coalesce(string_agg(format('%s.%s=%s', table_schema, table_name,
      (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text), ',' ORDER BY 1), '') AS v
      FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
    )
  )[0].v;

async function approve(handle: Awaited<ReturnType<typeof startRun>>, gate: 'plan' | 'cutover' | 'restore') {
  await waitFor(handle, atGate(gate), 90000);
  for (const approver of ['bob', 'carol']) await handle.signal(approveSignal, { gate, approver });
}

test('a drifted Pilot moves exactly: renamed tables and columns, constant, map, expressions, widened key, dropped column; the evidence counts what moved', async () => {
  const prod = await h.production(MAP_PRODUCTION);
  const handle = await startRun(h.env, mapPlan('map-happy'));
  const atPlan = await waitFor(handle, atGate('plan'), 90000);
  expect(atPlan.error ?? null).toBeNull();
  await approve(handle, 'plan');
  await approve(handle, 'cutover');
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');

  // Every Production column against the Pilot mapped by hand; the notes through their new customer keys.
  expect(await content(prod, PRODUCTION_CUSTOMERS)).toBe(await content(h.pilot, EXPECTED_CUSTOMERS));
  expect(await content(prod, PRODUCTION_NOTES)).toBe(await content(h.pilot, EXPECTED_NOTES));
  // New keys from Production's identity (above its 2000), the Pilot's id in the id map; production's own rows untouched.
  const ids = await rows<{ o: string; n: string }>(
    prod,
    "SELECT old_key->>0 AS o, new_key->>0 AS n FROM cutover.id_map WHERE table_name = 'public.clients' ORDER BY 1",
  );
  expect(ids.map((x) => x.o)).toEqual(['1', '2', '3', '5']);
  expect(ids.every((x) => Number(x.n) > 2000)).toBe(true);
  expect(await content(prod, 'SELECT customer_id, tenant_id, full_name, tier, status FROM customers WHERE customer_id <= 2000')).toBe(
    '(1001,1,"Existing One",pro,ACTIVE)|(1002,1,"Existing Two",free,SUSPENDED)',
  );
  // The dropped column's values never reached Production; the test account stayed behind.
  expect(await rows(prod, "SELECT 1 FROM information_schema.columns WHERE column_name IN ('legacy_score', 'is_test', 'fullname')")).toEqual(
    [],
  );
  expect(await content(prod, "SELECT table_name, key, reason FROM cutover.manifest WHERE outcome = 'left-behind'")).toBe(
    '(public.client_notes,[13],parent-left-behind:public.clients)|(public.clients,[4],test-account)',
  );

  // The evidence's mapping section, against the SQL's counts.
  // The pack as written to cutover.evidence (its exact text), and the same section in the md report.
  const stored = (await rows<{ t: string }>(prod, 'SELECT pack_text AS t FROM cutover.evidence'))[0].t;
  const doc = JSON.parse(stored) as EvidenceDocument;
  expect(doc.mapping).toEqual(asEvidence((await handle.query('report')) as EvidencePack).mapping);
  const clients = doc.mapping!.find((m) => m.table === 'public.clients')!;
  const moved = Number((await rows<{ n: string }>(h.pilot, 'SELECT count(*)::text AS n FROM clients WHERE NOT is_test'))[0].n);
  expect(clients.into).toBe('public.customers');
  expect(clients.rows).toBe(moved);
  const byColumn = Object.fromEntries(clients.columns.map((c) => [c.column, c]));
  expect(byColumn.customer_id).toEqual({ column: 'customer_id', source: 'renamed', from: 'id' }); // int → bigint, a key: moved as it is
  expect(byColumn.full_name).toMatchObject({ source: 'renamed', from: 'fullname' });
  expect(byColumn.email).toMatchObject({ source: 'copied' });
  expect(byColumn.tenant_id).toMatchObject({ source: 'constant', value: 7 });
  expect(byColumn.status).toMatchObject({ source: 'expr', expr: "case when archived then 'SUSPENDED' else 'ACTIVE' end" });
  expect(byColumn.created_at).toMatchObject({ source: 'default' });
  const perPlan = await rows<{ v: string; n: string }>(
    h.pilot,
    'SELECT plan::text AS v, count(*)::text AS n FROM clients WHERE NOT is_test GROUP BY 1 ORDER BY 1',
  );
  expect(byColumn.tier).toMatchObject({
    source: 'map',
    from: 'plan',
    values: perPlan.map((p) => ({ from: p.v, to: p.v === 'pro' ? 'pro' : 'free', rows: Number(p.n), defaulted: p.v === 'trial' })),
  });
  const nonNull = Number((await rows<{ n: string }>(h.pilot, 'SELECT count(legacy_score)::text AS n FROM clients WHERE NOT is_test'))[0].n);
  expect(clients.dropped).toEqual([
    { column: 'legacy_score', nonNull },
    { column: 'is_test', nonNull: moved },
  ]);
  const notes = doc.mapping!.find((m) => m.table === 'public.client_notes')!;
  expect(notes).toMatchObject({
    into: 'public.notes',
    rows: Number((await rows<{ n: string }>(h.pilot, `SELECT count(*)::text AS n FROM (${EXPECTED_NOTES}) x`))[0].n),
    dropped: [],
  });
  expect(notes.columns.find((c) => c.column === 'note_id')).toMatchObject({ source: 'copied' }); // int → bigint: the key moves as it is
  const md = formatReportMarkdown(doc);
  expect(md).toContain('Mapping public.clients → public.customers (4 rows)');
  expect(md).toMatch(/\| \(Pilot\) legacy_score \| dropped: 2 non-null values left behind \| 2 \|/);
}, 300000);

describe('refusals: before anything is written, naming the place (the dry run the workflow runs)', () => {
  const base = uniqueName('cutover_mapr');
  let prod: string;
  beforeAll(async () => {
    prod = await createDb(`${base}_prod`, MAP_PRODUCTION);
  });
  afterAll(() => dropDb(`${base}_prod`));

  async function refused(plan: Record<string, unknown>): Promise<string> {
    process.env.CUTOVER_DB_PRODUCTION = prod;
    const before = [await everything(h.pilot), await everything(prod)];
    const f = await failureOf(preflight({ plan: schemaChecked(plan), runKey: 'mapr', workflowId: 'w', runId: 'r' }));
    expect(f.type).toBe('PlanError');
    expect([await everything(h.pilot), await everything(prod)]).toEqual(before);
    return f.message;
  }

  test('a Pilot column neither copied, mapped, used nor dropped', async () => {
    expect(await refused(mapPlan('map-r1', { clients: (t) => void (t.drop = ['is_test']) }))).toContain(
      'tables[0].drop: Pilot column public.clients.legacy_score is neither copied, mapped, used by an expression nor listed in drop',
    );
  });

  test('a Production NOT NULL column without default that nothing supplies', async () => {
    expect(await refused(mapPlan('map-r2', { clients: (t) => void delete (t.columns as Record<string, unknown>).tenant_id }))).toContain(
      'tables[0].columns: Production column public.customers.tenant_id is NOT NULL without default and nothing supplies it',
    );
  });

  test('a Pilot value in scope that the map does not list and no default gives: the values with their counts', async () => {
    const message = await refused(
      mapPlan('map-r3', {
        clients: (t) =>
          void ((t.columns as Record<string, Record<string, unknown>>).tier = { from: 'plan', map: { beta: 'free', pro: 'pro' } }),
      }),
    );
    // Grace Hopper's trial is in scope; the test account's trial was left behind first.
    expect(message).toContain(
      'tables[0].columns.tier.map: public.clients.plan has values in scope that the map into public.customers.tier does not list and no default gives: "trial" (1 row)',
    );
  });

  test('a value that does not convert to the column type, named by key', async () => {
    const message = await refused(
      mapPlan('map-r4', {
        notes: (t) => void ((t.columns as Record<string, unknown>).amount_cents = { expr: 'round(amount * 100000)::text' }),
      }),
    );
    expect(message).toContain(
      'tables[1].columns.amount_cents: public.notes.amount_cents is integer in Production: the mapped value does not convert for (note_id)=(14)',
    );
    expect(message).not.toContain('12345678000');
    // An expression that fails on a row of its own (division by zero): the column named, the value withheld.
    const zero = await refused(
      mapPlan('map-r4z', {
        notes: (t) => void ((t.columns as Record<string, unknown>).amount_cents = { expr: '(1 / (amount - 0.99))::int' }),
      }),
    );
    expect(zero).toContain(
      'tables[1].columns.amount_cents.expr: computing public.notes.amount_cents fails in staging: a data exception (SQLSTATE 22012; the value is withheld)',
    );
  });

  test("a row breaking one of Production's check constraints, named by key", async () => {
    const message = await refused(
      mapPlan('map-r5', {
        clients: (t) =>
          void ((t.columns as Record<string, unknown>).tier = { from: 'plan', map: { beta: 'free', pro: 'PRO' }, default: 'free' }),
      }),
    );
    expect(message).toContain(
      "tables[0].columns.tier: rows would break Production's check constraint customers_tier_check on public.customers (tier): (customer_id)=(2); (customer_id)=(5)",
    );
  });

  test('an expression that is not a plain scalar expression of the row, naming the node', async () => {
    const cases: [string, string][] = [
      ['(select max(id) from clients)', 'a subquery is not allowed'],
      ['c.fullname', 'column c.fullname names another table'],
      ['random()', 'function random() is not allowed'],
      ['generate_series(1, id)', 'function generate_series() is not allowed'],
      ['count(*)', 'function count() is used as an aggregate'],
      ['nosuch || fullname', 'reads "nosuch", which is not a column of public.clients'],
      ['fullname) FROM pg_shadow --', 'is not a valid PostgreSQL expression'],
      ['fullname), (email', 'must be one scalar expression'],
    ];
    for (const [expr, why] of cases) {
      expect(
        await refused(mapPlan('map-r6', { clients: (t) => void ((t.columns as Record<string, unknown>).status = { expr }) })),
      ).toContain(why);
    }
  });

  test('a key or foreign-key column from a value, map or expression; into a table Production lacks', async () => {
    expect(
      await refused(mapPlan('map-r7', { notes: (t) => void ((t.columns as Record<string, unknown>).customer_id = { value: 1 }) })),
    ).toContain('tables[1].columns.customer_id: public.notes.customer_id is a foreign key into a plan table (public.clients)');
    expect(await refused(mapPlan('map-r8', { notes: (t) => void (t.into = 'remarks') }))).toContain(
      'tables[1].into: unknown table public.remarks in target',
    );
  });
});

test("the dry run prints every column's fate before anything runs (plan check --connect)", async () => {
  const base = uniqueName('cutover_mapd');
  const prod = await createDb(`${base}_prod`, MAP_PRODUCTION);
  try {
    process.env.CUTOVER_DB_PRODUCTION = prod;
    const report: DryRunReport = await preflight({ plan: schemaChecked(mapPlan('map-dry')), runKey: 'mapd', workflowId: 'w', runId: 'r' });
    const { formatDryRun } = await import('../client/format/dryrun');
    const text = formatDryRun(report);
    expect(text).toContain('mapping public.clients → public.customers (4 rows)');
    expect(text).toMatch(/tier\s+map of plan \("beta" → "free": 1, "pro" → "pro": 2, "trial" → "free" \(default\): 1\)\s+4/);
    expect(text).toMatch(/\(Pilot\) legacy_score\s+dropped: 2 non-null values left behind\s+2/);
    expect(text).toMatch(/amount_cents\s+expression round\(amount \* 100\)::int/);
  } finally {
    await dropDb(`${base}_prod`);
  }
}, 120000);

test('a mapped run rolls back surgically: Production exactly as before', async () => {
  const base = uniqueName('cutover_maprb');
  const prod = await createDb(`${base}_prod`, MAP_PRODUCTION);
  try {
    process.env.CUTOVER_DB_PRODUCTION = prod;
    const before = [await content(prod, 'SELECT * FROM customers'), await content(prod, 'SELECT * FROM notes')];
    const run = await publishRun(prod, schemaChecked(mapPlan('map-rb')), 'maprb');
    expect(await content(prod, PRODUCTION_CUSTOMERS)).toBe(await content(h.pilot, EXPECTED_CUSTOMERS));
    const r = await rollback({ ...run.input, publish: run.published });
    expect(r.tables.map((t) => [t.table, t.deleted])).toEqual([
      ['public.client_notes', 4],
      ['public.clients', 4],
    ]);
    expect([await content(prod, 'SELECT * FROM customers'), await content(prod, 'SELECT * FROM notes')]).toEqual(before);
  } finally {
    await dropDb(`${base}_prod`);
  }
}, 120000);

test('erasure after publish honours the mapping: a Pilot subject found in Production through the id map of clients → customers, with what cannot exist without them', async () => {
  const base = uniqueName('cutover_mapes');
  const prod = await createDb(`${base}_prod`, MAP_PRODUCTION);
  try {
    process.env.CUTOVER_DB_PRODUCTION = prod;
    const plan = schemaChecked(
      mapPlan(
        'map-erasure',
        {},
        {
          subjects: { table: 'clients', key: 'id' },
          erasure: { registers: [{ db: 'source', table: 'erasure_request', subject: 'client_id' }] },
        },
      ),
    );
    const { input } = await publishRun(prod, plan, 'mapes');
    const edsger = (
      await rows<{ k: string }>(
        prod,
        "SELECT new_key->>0 AS k FROM cutover.id_map WHERE run_key = 'mapes' AND table_name = 'public.clients' AND old_key = '[5]'::jsonb",
      )
    )[0].k;
    expect(await content(prod, `SELECT full_name FROM customers WHERE customer_id = ${Number(edsger)}`)).toBe('("Edsger Dijkstra")');
    // The request arrives in the Pilot's register after stage: Pilot key 5.
    await rows(h.pilot, 'INSERT INTO erasure_request VALUES (5)');
    try {
      const r = (await new MockActivityEnvironment().run(erasure, { ...input, step: 'erasure' as const })) as ErasureResult;
      expect(r).toMatchObject({ applied: 1, residue: 0, rows: { 'public.clients': 1, 'public.client_notes': 1 } });
      expect(r.applications).toEqual([expect.objectContaining({ subject: '5', productionSubject: `[${edsger}]` })]);
    } finally {
      await rows(h.pilot, 'DELETE FROM erasure_request');
    }
    // The test's own SQL: the person and their note are gone from Production; everyone else is as mapped.
    expect(
      await content(prod, `SELECT 1 FROM customers WHERE customer_id = ${Number(edsger)} UNION ALL SELECT 1 FROM notes WHERE note_id = 14`),
    ).toBe('');
    expect(await content(prod, PRODUCTION_CUSTOMERS)).toBe(await content(h.pilot, `${EXPECTED_CUSTOMERS} AND id <> 5`));
    expect(await content(prod, "SELECT table_name, rows FROM cutover.erasure_log WHERE run_key = 'mapes' AND step = 'erasure'")).toBe(
      '(public.client_notes,1)|(public.clients,1)',
    );
  } finally {
    await dropDb(`${base}_prod`);
  }
}, 120000);

// Checks run as a role that can only read (accessCheckRole), never as the tests' superuser.
const checker = checkerRole('cutover_map');
afterAll(() => checker.drop());

test('a mapped run is rehearsed, then restored from its backup through the workflow: Production equals its pre-run contents less a later erasure', async () => {
  const prod = await h.production(MAP_PRODUCTION + checker.sql);
  const dump = () => Promise.all(['customers', 'notes', 'tenants'].map((t) => content(prod, `SELECT * FROM ${t}`)));
  const before = await dump();
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-map-'));
  const handle = await startRun(
    h.env,
    mapPlan(
      'map-restore',
      {},
      {
        // full: the rehearsal restores it whole (customers reference tenants, which are not in the plan).
        backup: { store: `file://${store}`, scope: 'full' },
        rehearsal: { mode: 'scratch' },
        subjects: { table: 'clients', key: 'id' },
        // Production's own register of its people (keys: production): a later request there is re-applied after the restore.
        erasure: { registers: [{ db: 'target', table: 'erasure_request', subject: 'customer_id', keys: 'production' }] },
        // A check that fails after publish: the run pauses with the mapped rows in Production.
        accessChecks: [{ name: 'no-suspended', sql: "SELECT customer_id FROM customers WHERE status = 'SUSPENDED' AND tenant_id = 7" }],
        accessCheckRole: checker.name,
      },
    ),
  );
  await approve(handle, 'plan');
  // The rehearsal ran the mapped run in a scratch copy of Production, rolled it back there, and said so.
  const atCutover = await waitFor(handle, atGate('cutover'), 180000);
  expect(atCutover.error ?? null).toBeNull();
  const rehearsal = ((await handle.query('report')) as EvidencePack).rehearsal!;
  expect(rehearsal).toMatchObject({ ok: true, failed: null, rollback: { proven: true } });
  expect(rehearsal.tables.find((t) => t.table === 'public.clients')).toMatchObject({ moved: 4 });
  expect(await dump()).toEqual(before);
  await approve(handle, 'cutover');
  const view = await waitFor(handle, paused, 180000);
  expect([view.phase, view.error?.type]).toEqual(['access-checks', 'AccessCheckError']);
  expect(await content(prod, PRODUCTION_CUSTOMERS)).toBe(await content(h.pilot, EXPECTED_CUSTOMERS));
  // Production's own customer 1002 asks to be erased after the backup: the restore re-applies it.
  await rows(prod, 'INSERT INTO erasure_request VALUES (1002)');
  await handle.executeUpdate(resumeUpdate, {
    args: [{ action: 'rollback', by: 'oncall', reason: 'restore the mapped run', mode: 'restore' }],
  });
  const gate = await waitFor(handle, atGate('restore'), 120000);
  expect(gate.restorePreview!.tables.find((t) => t.table === 'public.clients')).toMatchObject({ insertedByRun: 4 });
  for (const approver of ['bob', 'carol']) await handle.signal(approveSignal, { gate: 'restore', approver });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('rolled-back');
  const [customers, ...rest] = before;
  expect(await dump()).toEqual([
    customers
      .split('|')
      .filter((r) => !r.startsWith('(1002,'))
      .join('|'),
    ...rest,
  ]);
}, 360000);
