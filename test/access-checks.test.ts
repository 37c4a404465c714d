// Access checks on real PostgreSQL after a real publish: a plan check that returns rows fails with
// those rows; SQL that writes is refused by the read-only transaction and writes nothing; grants,
// row-level security and policies changed on a touched table since the snapshot fail the built-in
// check (and changing them back passes); a moved subject whose consent is gone in the Pilot fails.
import { accessChecks } from '../activities/access-checks';
import type { AccessCheckResult, AccessChecksResult } from '../common/results';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, shopPlan } from './helpers/shop';
import { failureOf, publishRun, schemaChecked, type Published } from './helpers/steps';

const base = uniqueName('cutover_acc');
let pilot: string;
let prod: string;
let run: Published;

const PLAN_CHECKS = [
  { name: 'no-example-emails', sql: "SELECT customer_id, email FROM customer WHERE email LIKE '%@example.com' ORDER BY customer_id" },
  { name: 'every-customer-has-a-country', sql: 'SELECT c.customer_id FROM customer c LEFT JOIN country k USING (country_id) WHERE k.country_id IS NULL' },
  { name: 'shows-its-transaction', sql: "SELECT current_setting('statement_timeout') AS timeout, current_setting('transaction_read_only') AS read_only" },
  { name: 'many-rows', sql: 'SELECT g, g * 2 AS twice FROM generate_series(1, 1000) g;  -- trailing comment' },
  { name: 'sneaky-insert', sql: "INSERT INTO staff VALUES (99, NULL, 'Sneaky') RETURNING *" },
  { name: 'sneaky-cte', sql: 'WITH d AS (DELETE FROM rental RETURNING *) SELECT * FROM d' },
  { name: 'sneaky-commit', sql: 'COMMIT; DELETE FROM rental' },
  { name: 'sneaky-sequence', sql: "SELECT nextval('customer_customer_id_seq')" },
  { name: 'sneaky-read-write', sql: 'SET TRANSACTION READ WRITE' },
];

beforeAll(async () => {
  pilot = await createDb(`${base}_pilot`, SHOP_SCHEMA + SHOP_PILOT);
  prod = await createDb(`${base}_prod`, SHOP_SCHEMA + SHOP_PRODUCTION);
  process.env.CUTOVER_DB_PILOT = pilot;
  process.env.CUTOVER_DB_PRODUCTION = prod;
  run = await publishRun(prod, schemaChecked(shopPlan('acc-run')), 'accrun00001');
}, 120000);

afterAll(async () => {
  await dropDb(`${base}_pilot`);
  await dropDb(`${base}_prod`);
});

const byName = (r: AccessChecksResult, name: string) => r.checks.find((c) => c.name === name) as AccessCheckResult;
const withChecks = (checks: { name: string; sql: string }[]) => ({ ...run.input, plan: schemaChecked(shopPlan('acc-run', { accessChecks: checks })), before: run.before });
const failed = async (input: Parameters<typeof accessChecks>[0]) => {
  const f = await failureOf(accessChecks(input));
  expect(f).toMatchObject({ type: 'AccessCheckError', nonRetryable: true });
  return { message: f.message, result: f.details[0] as AccessChecksResult };
};

test('built-in checks pass on an untouched production: grants and RLS unchanged, every moved subject consented', async () => {
  const r = await accessChecks({ ...run.input, before: run.before });
  expect(r.ok).toBe(true);
  expect(r.checks.map((c) => [c.name, c.kind, c.passed, c.rowCount])).toEqual([
    ['built-in:grants-and-rls', 'built-in', true, 0],
    ['built-in:consent', 'built-in', true, 0],
  ]);
  // The snapshot covers partitions on their own.
  expect(run.before.relations.map((x) => x.relation)).toEqual(expect.arrayContaining(['public.measurement', 'public.measurement_2025', 'public.measurement_2026']));
  expect(run.before.relations.find((x) => x.relation === 'public.measurement_2026')!.partitionOf).toBe('public.measurement');
}, 60000);

describe('plan checks', () => {
  let out: { message: string; result: AccessChecksResult };
  const seqBefore = () => rows<{ v: string }>(prod, 'SELECT last_value::text AS v FROM customer_customer_id_seq');
  let seq: { v: string }[];
  let rentals: unknown[];
  beforeAll(async () => {
    seq = await seqBefore();
    rentals = await rows(prod, 'SELECT count(*)::int AS n FROM rental');
    out = await failed(withChecks(PLAN_CHECKS));
  }, 60000);

  test('a failing check returns its rows (up to 20, counted in full) and the error names it and shows them', async () => {
    const c = byName(out.result, 'no-example-emails');
    expect(c).toMatchObject({ kind: 'plan', passed: false, rowCount: 6, error: null });
    expect(c.rows[0]).toEqual({ customer_id: '4', email: 'c1@example.com' });
    expect(c.rows.map((x) => x.email)).toEqual(['c1@example.com', 'mixed6@example.com', 'c7@example.com', 'c8@example.com', 'c9@example.com', 'c10@example.com']);
    expect(typeof c.durationMs).toBe('number');
    expect(out.message).toContain('no-example-emails: 6 row(s):');
    expect(out.message).toContain('{"customer_id":"4","email":"c1@example.com"}');
    const many = byName(out.result, 'many-rows');
    expect(many).toMatchObject({ passed: false, rowCount: 1000 });
    expect(many.rows).toHaveLength(20);
    expect(many.rows[19]).toEqual({ g: '20', twice: '40' });
    expect(out.message).toContain('many-rows: 1000 row(s), the first 20:');
    expect(byName(out.result, 'shows-its-transaction').rows).toEqual([{ timeout: '30s', read_only: 'on' }]);
    expect(byName(out.result, 'every-customer-has-a-country')).toMatchObject({ passed: true, rowCount: 0, rows: [], error: null });
    expect(out.result.ok).toBe(false);
  });

  test('SQL that writes is refused by the read-only transaction, with PostgreSQL\'s message, and nothing is written', async () => {
    expect(byName(out.result, 'sneaky-insert')).toMatchObject({ passed: false, rowCount: 0, error: 'cannot execute INSERT in a read-only transaction' });
    expect(byName(out.result, 'sneaky-cte')).toMatchObject({ passed: false, error: expect.stringMatching(/in a read-only transaction$/) });
    expect(byName(out.result, 'sneaky-commit')).toMatchObject({ passed: false, error: 'cannot insert multiple commands into a prepared statement' });
    expect(byName(out.result, 'sneaky-sequence')).toMatchObject({ passed: false, error: 'cannot execute nextval() in a read-only transaction' });
    expect(byName(out.result, 'sneaky-read-write')).toMatchObject({ passed: false, error: 'transaction read-write mode must be set before any query' });
    expect(out.message).toContain('sneaky-insert: cannot execute INSERT in a read-only transaction');
    expect(await rows(prod, 'SELECT * FROM staff WHERE staff_id = 99')).toEqual([]);
    expect(await rows(prod, 'SELECT count(*)::int AS n FROM rental')).toEqual(rentals);
    expect(await seqBefore()).toEqual(seq);
  });
});

test('a grant, a column grant, RLS and a policy added on touched tables since the snapshot fail the built-in check; undone, it passes', async () => {
  const change = `GRANT SELECT ON rental TO PUBLIC; GRANT UPDATE (email) ON customer TO PUBLIC;
                  ALTER TABLE measurement_2026 ENABLE ROW LEVEL SECURITY; CREATE POLICY store_one ON customer USING (store_id = 1)`;
  const undo = `REVOKE SELECT ON rental FROM PUBLIC; REVOKE UPDATE (email) ON customer FROM PUBLIC;
                ALTER TABLE measurement_2026 DISABLE ROW LEVEL SECURITY; DROP POLICY store_one ON customer`;
  await rows(prod, change);
  try {
    const { message, result } = await failed({ ...run.input, before: run.before });
    const grants = byName(result, 'built-in:grants-and-rls');
    expect(grants.passed).toBe(false);
    expect(grants.rows).toEqual(expect.arrayContaining([
      { relation: 'public.rental', change: 'grant added', detail: 'PUBLIC: SELECT (by postgres)' },
      { relation: 'public.customer', change: 'column grant added', detail: 'email: PUBLIC: UPDATE (by postgres)' },
      { relation: 'public.measurement_2026', change: 'row level security changed', detail: 'relrowsecurity false → true' },
      { relation: 'public.customer', change: 'policy added', detail: 'store_one AS PERMISSIVE FOR ALL TO PUBLIC USING ((store_id = 1))' },
    ]));
    expect(grants.rowCount).toBe(4);
    expect(message).toContain('built-in:grants-and-rls: 4 row(s)');
    expect(byName(result, 'built-in:consent').passed).toBe(true);
  } finally {
    await rows(prod, undo);
  }
  expect((await accessChecks({ ...run.input, before: run.before })).ok).toBe(true);
}, 60000);

test('a moved subject whose consent was withdrawn in the Pilot fails the consent check, named by Pilot and production key', async () => {
  const [{ n }] = await rows<{ n: unknown[] }>(prod, "SELECT new_key AS n FROM cutover.id_map WHERE run_key = $1 AND table_name = 'public.customer' AND old_key = '[7]'", [run.input.runKey]);
  await rows(pilot, "UPDATE customer_consent SET status = 'withdrawn' WHERE customer_id = 7");
  try {
    const { message, result } = await failed({ ...run.input, before: run.before });
    expect(byName(result, 'built-in:consent')).toMatchObject({
      passed: false,
      rowCount: 1,
      rows: [{ table: 'public.customer', pilotKey: '(customer_id)=(7)', productionKey: `(customer_id)=(${n[0]})`, subject: '7', reason: 'no consent row matching consent.granted in the Pilot' }],
    });
    expect(message).toContain('built-in:consent: 1 row(s)');
  } finally {
    await rows(pilot, "UPDATE customer_consent SET status = 'granted' WHERE customer_id = 7");
  }
}, 60000);

test('a subject column outside the key is read from the Pilot row the manifest names', async () => {
  // Subjects identified by store_id (all moved customers are store 1): consent for "subject 1".
  const plan = schemaChecked(shopPlan('acc-run', { subjects: { table: 'customer', key: 'store_id' } }));
  expect((await accessChecks({ ...run.input, plan, before: run.before })).ok).toBe(true);
  await rows(pilot, "UPDATE customer_consent SET status = 'withdrawn' WHERE customer_id = 1");
  try {
    const { result } = await failed({ ...run.input, plan, before: run.before });
    const c = byName(result, 'built-in:consent');
    expect(c.rowCount).toBe(6);
    expect(c.rows[0]).toMatchObject({ subject: '1', reason: 'no consent row matching consent.granted in the Pilot' });
  } finally {
    await rows(pilot, "UPDATE customer_consent SET status = 'granted' WHERE customer_id = 1");
  }
}, 60000);

test('without the snapshot from before publish the built-in check fails, saying why', async () => {
  const { message, result } = await failed({ ...run.input } as Parameters<typeof accessChecks>[0]);
  expect(byName(result, 'built-in:grants-and-rls')).toMatchObject({ passed: false, error: 'no access snapshot from before publish in the input (before)' });
  expect(message).toContain('built-in:grants-and-rls: no access snapshot from before publish in the input (before)');
}, 60000);
