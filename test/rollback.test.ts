// Surgical rollback on real PostgreSQL after a real publish of the shop plan (ids new, match and
// keep, the dept ⇄ employee cycle, the partitioned measurement table): production afterwards is
// exactly what it was before publish, proven by the rollback itself and checked here by our own
// dump; a second call is a no-op; rows written after publish that reference the run's rows block
// it (listed, nothing deleted); other writers are reported (or refused with preExisting: full); a
// trigger that would write elsewhere makes the transaction's own counts refuse it, one that keeps a
// row makes the by-key proof refuse it; real shapes (quoted names, partition-level FKs) work too.
import { accessChecks } from '../activities/access-checks';
import { rollback } from '../activities/rollback';
import type { RollbackResult } from '../common/results';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';
import { REAL_PILOT, REAL_PRODUCTION, REAL_SCHEMA, realPlan } from './helpers/realshape';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, shopPlan } from './helpers/shop';
import { failureOf, publishRun, schemaChecked, type Published } from './helpers/steps';

const base = uniqueName('cutover_rb');
const made: string[] = [];
const TABLES = ['country', 'address', 'customer', 'rental', 'staff', 'kinds', 'measurement', 'dept', 'employee'];

beforeAll(async () => {
  process.env.CUTOVER_DB_PILOT = await createDb(`${base}_pilot`, SHOP_SCHEMA + SHOP_PILOT);
}, 60000);

afterAll(async () => {
  for (const name of [`${base}_pilot`, ...made]) await dropDb(name);
});

/** A fresh production, published into by the shop plan; its contents just before publish. */
async function published(
  tag: string,
  overrides: Record<string, unknown> = {},
): Promise<{ prod: string; run: Published; before: Record<string, string> }> {
  const name = `${base}_${tag}`;
  made.push(name);
  const prod = await createDb(name, SHOP_SCHEMA + SHOP_PRODUCTION);
  process.env.CUTOVER_DB_PRODUCTION = prod;
  const before = await dump(prod);
  const plan = schemaChecked(shopPlan(`rb-${tag}`));
  // Plan keys a case sets on top of the shop plan (e.g. validation.preExisting).
  Object.assign(plan, overrides);
  const run = await publishRun(prod, plan, `rb${tag}`.slice(0, 12));
  expect(await dump(prod)).not.toEqual(before);
  return { prod, run, before };
}

const one = async (url: string, sql: string) => (await rows<{ v: string }>(url, sql))[0]?.v;
/** Every row of every touched table (partitions by their own name), in a stable order. */
async function dump(url: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of TABLES)
    out[t] = await one(url, `SELECT string_agg(x::text || '@' || x.tableoid::regclass::text, E'\\n' ORDER BY x::text) AS v FROM ${t} x`);
  return out;
}
const table = (r: RollbackResult, name: string) => r.tables.find((t) => t.table === name)!;
const rollbackOf = (run: Published) => rollback({ ...run.input, publish: run.published });

test('rollback leaves production exactly as before publish (new, match, keep, a cycle, partitions), proven; a second call is a no-op', async () => {
  const { prod, run, before } = await published('full', { validation: { preExisting: 'full' } });
  const manifest = await one(prod, 'SELECT count(*)::text AS v FROM cutover.manifest');
  const idMap = await one(prod, 'SELECT count(*)::text AS v FROM cutover.id_map');
  const r = await rollbackOf(run);
  expect(await dump(prod)).toEqual(before);

  // Children first; every table's checksum equals the one publish took before inserting.
  const order = r.tables.map((t) => t.table.replace('public.', ''));
  expect([...order].sort()).toEqual([...TABLES].sort());
  for (const [child, parent] of [
    ['employee', 'dept'],
    ['rental', 'customer'],
    ['customer', 'address'],
    ['customer', 'country'],
  ]) {
    expect(order.indexOf(child)).toBeLessThan(order.indexOf(parent));
  }
  for (const t of r.tables) {
    expect(t).toMatchObject({ equal: true, alreadyGone: 0, deleted: t.inserted });
    expect(t.checksumAfterRollback).toMatch(/^\d+:-?\d+$/);
    expect(t.checksumAfterRollback).toBe(run.published.tables.find((p) => p.table === t.table)!.preExistingChecksum);
  }
  expect(table(r, 'public.customer').deleted).toBe(6);
  expect(table(r, 'public.country').deleted).toBe(1); // France; the matched US and DE rows were production's and stay
  expect(table(r, 'public.dept')).toMatchObject({ deleted: 2, cycleColumnsCleared: 2 });
  expect(table(r, 'public.measurement').deleted).toBe(3);

  // The proof: the transaction's own counts, partitions by name, the cycle's updates on dept.
  expect(r.proof).toMatchObject({ insertedRowsGone: true, production: 'unchanged since publish', changedTables: [], preExisting: 'full' });
  const counts = Object.fromEntries(r.proof.transactionCounts.map((c) => [c.relation, [c.inserted, c.updated, c.deleted]]));
  expect(counts).toEqual({
    'public.address': [0, 0, 6],
    'public.country': [0, 0, 1],
    'public.customer': [0, 0, 6],
    'public.dept': [0, 2, 2],
    'public.employee': [0, 0, 3],
    'public.kinds': [0, 0, 3],
    'public.measurement_2025': [0, 0, 1],
    'public.measurement_2026': [0, 0, 2],
    'public.rental': [0, 0, 12],
    'public.staff': [0, 0, 3],
  });

  // The run's record stays as evidence; the outcome is recorded beside it.
  expect(await one(prod, 'SELECT count(*)::text AS v FROM cutover.manifest')).toBe(manifest);
  expect(await one(prod, 'SELECT count(*)::text AS v FROM cutover.id_map')).toBe(idMap);
  const [recorded] = await rows<{ status: string; at: Date | null; result: RollbackResult }>(
    prod,
    'SELECT status, rolled_back_at AS at, rollback_result AS result FROM cutover.run WHERE run_key = $1',
    [run.input.runKey],
  );
  expect(recorded.status).toBe('rolled-back');
  expect(recorded.at).not.toBeNull();
  expect(recorded.result).toEqual(r);

  // A retry (say, after a commit whose answer was lost) returns the same result and deletes nothing.
  await rows(prod, "INSERT INTO staff VALUES (1, NULL, 'Boss, hired again by production itself')");
  const again = await rollbackOf(run);
  expect(again).toEqual(r);
  expect(await one(prod, 'SELECT name AS v FROM staff WHERE staff_id = 1')).toBe('Boss, hired again by production itself');
}, 120000);

test("rows written after publish that reference the run's rows block the rollback: listed, nothing deleted", async () => {
  const { prod, run, before } = await published('blocked', { validation: { preExisting: 'full' } });
  const [{ id }] = await rows<{ id: number }>(prod, "SELECT customer_id AS id FROM customer WHERE email = 'c7@example.com'");
  await rows(prod, 'CREATE TABLE ticket (ticket_id serial PRIMARY KEY, customer_id int REFERENCES customer, subject text)');
  await rows(
    prod,
    `INSERT INTO rental (customer_id, amount) VALUES (${id}, 99.99); INSERT INTO ticket (customer_id, subject) VALUES (${id}, 'where is my order')`,
  );
  await rows(prod, "UPDATE dept SET head_id = (SELECT emp_id FROM employee WHERE name = 'Olga') WHERE name = 'Prod dept'");
  const afterWrites = await dump(prod);

  const f = await failureOf(rollbackOf(run));
  expect(f).toMatchObject({ type: 'RollbackBlocked', nonRetryable: true });
  const [{ rental }] = await rows<{ rental: number }>(prod, 'SELECT max(rental_id) AS rental FROM rental');
  expect((f.details[0] as { rows: unknown[] }).rows).toEqual(
    expect.arrayContaining([
      { table: 'public.rental', key: `(rental_id)=(${rental})`, fk: 'rental_customer_id_fkey', references: 'public.customer' },
      { table: 'public.ticket', key: '(ticket_id)=(1)', fk: 'ticket_customer_id_fkey', references: 'public.customer' },
      { table: 'public.dept', key: '(dept_id)=(1)', fk: 'dept_head_id_fkey', references: 'public.employee' },
    ]),
  );
  expect((f.details[0] as { rows: unknown[] }).rows).toHaveLength(3);
  expect(f.message).toContain(`public.ticket (ticket_id)=(1) (FK ticket_customer_id_fkey → public.customer)`);
  expect(await dump(prod)).toEqual(afterWrites);
  expect(await one(prod, 'SELECT (rolled_back_at IS NULL)::text AS v FROM cutover.run')).toBe('true');

  // Production removes its references: the rollback goes through, and production is as before
  // publish except the table it created.
  await rows(
    prod,
    `DELETE FROM ticket; DELETE FROM rental WHERE rental_id = ${rental}; UPDATE dept SET head_id = NULL WHERE name = 'Prod dept'`,
  );
  const r = await rollbackOf(run);
  expect(await dump(prod)).toEqual(before);
  // Checksums are of content: production's own row came and went, its dept head is NULL again.
  expect(r.proof).toMatchObject({ production: 'unchanged since publish', changedTables: [] });
}, 120000);

test('keys the database would not refuse on (cascade, set null, triggers disabled) are checked by rows first: listed, nothing deleted or nulled', async () => {
  const { prod, run } = await published('cascading');
  const [{ id }] = await rows<{ id: number }>(prod, "SELECT customer_id AS id FROM customer WHERE email = 'c7@example.com'");
  await rows(
    prod,
    `CREATE TABLE note (note_id serial PRIMARY KEY, customer_id int REFERENCES customer ON DELETE CASCADE, body text);
    CREATE TABLE flag (flag_id serial PRIMARY KEY, customer_id int REFERENCES customer ON DELETE SET NULL);
    CREATE TABLE legacy (legacy_id serial PRIMARY KEY, customer_id int REFERENCES customer);
    ALTER TABLE legacy DISABLE TRIGGER ALL;
    INSERT INTO note (customer_id, body) VALUES (${id}, 'called back');
    INSERT INTO flag (customer_id) VALUES (${id});
    INSERT INTO legacy (customer_id) VALUES (${id});`,
  );
  const afterWrites = await dump(prod);
  const f = await failureOf(rollbackOf(run));
  expect(f).toMatchObject({ type: 'RollbackBlocked', nonRetryable: true });
  expect((f.details[0] as { rows: unknown[] }).rows).toEqual([
    { table: 'public.flag', key: '(flag_id)=(1)', fk: 'flag_customer_id_fkey', references: 'public.customer' },
    { table: 'public.legacy', key: '(legacy_id)=(1)', fk: 'legacy_customer_id_fkey', references: 'public.customer' },
    { table: 'public.note', key: '(note_id)=(1)', fk: 'note_customer_id_fkey', references: 'public.customer' },
  ]);
  // Nothing deleted, nulled or cascaded: production's three rows still point at the customer.
  expect(await dump(prod)).toEqual(afterWrites);
  expect(
    await one(
      prod,
      `SELECT (SELECT count(*) FROM note WHERE customer_id = ${id}) + (SELECT count(*) FROM flag WHERE customer_id = ${id}) + (SELECT count(*) FROM legacy WHERE customer_id = ${id}) || '' AS v`,
    ),
  ).toBe('3');
  expect(await one(prod, 'SELECT (rolled_back_at IS NULL)::text AS v FROM cutover.run')).toBe('true');
}, 120000);

test('other writers since publish are reported, not failed (a run whose publish took checksums); a row production already deleted counts as gone', async () => {
  // Publish took checksums (as every run before validation.preExisting did); the plan now says count.
  const { prod, run } = await published('writers', { validation: { preExisting: 'full' } });
  delete (run.input.plan as { validation?: unknown }).validation;
  await rows(prod, "UPDATE customer SET email = 'changed@prod.example' WHERE email = 'p2@prod.example'");
  const [{ id }] = await rows<{ id: number }>(prod, 'SELECT max(rental_id) AS id FROM rental');
  await rows(prod, `DELETE FROM rental WHERE rental_id = ${id}`);
  const r = await rollbackOf(run);
  expect(r.proof).toMatchObject({
    production: 'production changed since publish (other writers)',
    changedTables: ['public.customer'],
    preExisting: 'count',
  });
  expect(table(r, 'public.customer')).toMatchObject({ equal: false, deleted: 6 });
  expect(table(r, 'public.rental')).toMatchObject({ equal: true, inserted: 12, deleted: 11, alreadyGone: 1 });
  expect(r.proof.summary).toEqual(
    expect.arrayContaining([
      'already deleted in production since publish: public.rental 1',
      '(c) production changed since publish (other writers): checksum differs for public.customer',
    ]),
  );
  expect(await one(prod, 'SELECT count(*)::text AS v FROM customer WHERE store_id = 1')).toBe('0');
}, 120000);

test("by default (counts) nothing reads the whole of production: other writers' changes stay, the proof is by key and counts", async () => {
  const { prod, run } = await published('counts');
  expect(run.published.tables.every((t) => t.preExistingChecksum === undefined)).toBe(true);
  await rows(prod, "UPDATE customer SET email = 'changed@prod.example' WHERE email = 'p2@prod.example'");
  await rows(prod, "INSERT INTO customer (email, store_id, country_id) VALUES ('app@prod.example', 9, 10)");
  const r = await rollbackOf(run);
  expect(r.proof).toMatchObject({
    insertedRowsGone: true,
    production: 'production not checksummed (validation.preExisting: count)',
    changedTables: [],
    preExisting: 'count',
  });
  expect(r.tables.every((t) => t.checksumBeforePublish === undefined && t.checksumAfterRollback === undefined)).toBe(true);
  expect(table(r, 'public.customer')).toMatchObject({ deleted: 6, inserted: 6 });
  expect(await one(prod, "SELECT string_agg(email, ',' ORDER BY email) AS v FROM customer")).toBe(
    'app@prod.example,changed@prod.example,p1@prod.example,p3@prod.example',
  );
}, 120000);

test('with validation.preExisting: full, a production change since publish refuses the rollback: nothing deleted', async () => {
  const { prod, run } = await published('strict', { validation: { preExisting: 'full' } });
  await rows(prod, "UPDATE customer SET email = 'changed@prod.example' WHERE email = 'p2@prod.example'");
  const afterWrite = await dump(prod);
  const f = await failureOf(rollbackOf(run));
  expect(f).toMatchObject({ type: 'RollbackRefused', nonRetryable: true });
  expect(f.message).toContain('production changed since publish (other writers), and validation.preExisting is full');
  expect(f.message).toContain('public.customer: checksum before publish');
  expect(await dump(prod)).toEqual(afterWrite);
  expect(await one(prod, 'SELECT status AS v FROM cutover.run')).toBe('published');
}, 120000);

test("a delete trigger that writes elsewhere shows in the transaction's own counts: refused, naming the table and the numbers", async () => {
  const { prod, run } = await published('trigger');
  await rows(
    prod,
    `CREATE TABLE staff_audit (staff_id int, at timestamptz DEFAULT now());
    CREATE FUNCTION audit_staff() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO staff_audit (staff_id) VALUES (OLD.staff_id); RETURN OLD; END $$;
    CREATE TRIGGER staff_deleted AFTER DELETE ON staff FOR EACH ROW EXECUTE FUNCTION audit_staff()`,
  );
  const afterPublish = await dump(prod);
  const f = await failureOf(rollbackOf(run));
  expect(f).toMatchObject({ type: 'RollbackRefused', nonRetryable: true });
  expect(f.message).toContain('public.staff_audit: the transaction inserted 3, updated 0, deleted 0; expected 0, 0, 0');
  expect(await dump(prod)).toEqual(afterPublish);
  expect(await one(prod, 'SELECT count(*)::text AS v FROM staff_audit')).toBe('0');
}, 120000);

test('a row the deletes did not remove (a trigger kept it) fails the by-key proof: refused, naming the table', async () => {
  const { prod, run } = await published('kept');
  await rows(
    prod,
    `CREATE FUNCTION keep_happy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN CASE WHEN OLD.m = 'happy' THEN NULL ELSE OLD END; END $$;
    CREATE TRIGGER kinds_keep BEFORE DELETE ON kinds FOR EACH ROW EXECUTE FUNCTION keep_happy()`,
  );
  const afterPublish = await dump(prod);
  const f = await failureOf(rollbackOf(run));
  expect(f).toMatchObject({ type: 'RollbackRefused', nonRetryable: true });
  expect(f.message).toContain('public.kinds: 1 row(s) this run inserted are still there');
  expect(await dump(prod)).toEqual(afterPublish);
}, 120000);

test('a run that published nothing has nothing to roll back', async () => {
  const name = `${base}_none`;
  made.push(name);
  process.env.CUTOVER_DB_PRODUCTION = await createDb(name, SHOP_SCHEMA + SHOP_PRODUCTION);
  const plan = schemaChecked(shopPlan('rb-none'));
  const f = await failureOf(rollback({ plan, runKey: 'rbnone000001', workflowId: 'cutover-rb-none', runId: 'r', publish: { tables: [] } }));
  expect(f).toMatchObject({ type: 'RollbackRefused', message: expect.stringContaining('has not published anything') });
}, 60000);

test('real shapes: quoted names, a composite key on a partitioned table, FKs declared on its partitions (blocking too)', async () => {
  const pilot = `${base}_rpilot`;
  const name = `${base}_real`;
  made.push(pilot, name);
  const saved = process.env.CUTOVER_DB_PILOT;
  process.env.CUTOVER_DB_PILOT = await createDb(pilot, REAL_SCHEMA + REAL_PILOT);
  try {
    const prod = await createDb(name, REAL_SCHEMA + REAL_PRODUCTION);
    process.env.CUTOVER_DB_PRODUCTION = prod;
    const realDump = async () =>
      one(
        prod,
        `SELECT string_agg(x, E'\\n' ORDER BY x) AS v FROM (
        ${['"Sales.EU"."Kunde"', '"Sales.EU"."Order"', 'public.note', '"Sales.EU"."Order Items"', '"Sales.EU"."Returns"'].map((t) => `SELECT x::text || '@' || x.tableoid::regclass::text AS x FROM ${t} x`).join(' UNION ALL ')}) t`,
      );
    const before = await realDump();
    const run = await publishRun(prod, schemaChecked(realPlan('rb-real')), 'rbreal000001');
    expect(await realDump()).not.toEqual(before);
    // The access snapshot names these relations as the rest of cutover does, partitions included.
    expect((await accessChecks({ ...run.input, before: run.before })).ok).toBe(true);
    expect(run.before.relations.map((x) => x.relation)).toContain('"Sales.EU"."Order Items 2026"');

    // Production adds a line to an order this run moved: the FK declared on the partition blocks.
    const [{ id }] = await rows<{ id: string }>(prod, `SELECT "Order ID"::text AS id FROM "Sales.EU"."Order" WHERE placed = '2025-07-07'`);
    await rows(
      prod,
      `INSERT INTO "Sales.EU"."Order Items" ("Line ID", "Order ID", "Shipped On", "Unit Price €") VALUES (100, ${id}, '2025-12-24', 5.00)`,
    );
    const f = await failureOf(rollbackOf(run));
    expect(f).toMatchObject({ type: 'RollbackBlocked' });
    expect((f.details[0] as { rows: unknown[] }).rows).toEqual([
      {
        table: '"Sales.EU"."Order Items 2025"',
        key: '(Shipped On, Line ID)=(2025-12-24, 100)',
        fk: 'items 2025 order',
        references: '"Sales.EU"."Order"',
      },
    ]);

    await rows(prod, `DELETE FROM "Sales.EU"."Order Items" WHERE "Line ID" = 100`);
    const r = await rollbackOf(run);
    expect(await realDump()).toEqual(before);
    expect(r.tables.every((t) => t.equal)).toBe(true);
    expect(r.proof.transactionCounts.map((c) => c.relation)).toEqual(
      expect.arrayContaining(['"Sales.EU"."Order Items 2025"', '"Sales.EU"."Order Items 2026"', '"Sales.EU"."Kunde"']),
    );
  } finally {
    process.env.CUTOVER_DB_PILOT = saved;
  }
}, 120000);
