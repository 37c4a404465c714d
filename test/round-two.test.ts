// Round two: the same plan run again against the same Pilot after the Pilot gained a NEW rental for a
// customer the first run already moved (ids: new, so Production gave that customer another key). The
// customer is not copied twice (already-moved:<run key>); the new rental moves, its customer_id the
// Production key the first run gave that customer (read from the first run's id map by our own SQL).
// So does a new customer at an address the first run moved (a parent selected as referenced).
// The dry run says the same. A rollback of the second run removes only its rows. After the first run
// is rolled back, nothing is remapped to its (deleted) rows: the customer moves again, and the rental
// references the new copy. A customer who withdrew consent since keeps its new rental behind.
// The same for an ids: keep parent (a self-reference: a new report of a manager moved before) and a
// new child in a cycle's ids: new parent (an employee of a department moved before). A parent
// deleted in Production since keeps its new child behind, named so, in the dry run as in the run.
import { MockActivityEnvironment } from '@temporalio/testing';
import { preflight } from '../activities/preflight';
import { rollback } from '../activities/rollback';
import { validate } from '../activities/validate';
import type { CleanupResult, DryRunReport, ValidateResult } from '../common/results';
import { validatePlan } from '../plan/validate';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, storeOnePlan } from './helpers/shop';
import { publishRun, type Published } from './helpers/steps';

const base = uniqueName('cutover_r2');
let pilot: string;
let prod: string;

/** A fresh shop Pilot and Production (`${base}_pilot<suffix>`, `_prod<suffix>`), the ones the activities use from now on. */
async function freshShop(suffix: string): Promise<{ pilot: string; prod: string }> {
  const p = await createDb(`${base}_pilot${suffix}`, SHOP_SCHEMA + SHOP_PILOT);
  const q = await createDb(`${base}_prod${suffix}`, SHOP_SCHEMA + SHOP_PRODUCTION);
  process.env.CUTOVER_DB_PILOT = p;
  process.env.CUTOVER_DB_PRODUCTION = q;
  return { pilot: p, prod: q };
}

beforeAll(async () => {
  ({ pilot, prod } = await freshShop(''));
}, 60000);

afterAll(async () => {
  for (const db of ['pilot', 'prod', 'pilot2', 'prod2', 'pilot3', 'prod3']) await dropDb(`${base}_${db}`);
});

const plan = () => validatePlan(storeOnePlan('round-two'));
/** The shop's rules name customers: plans without them drop the rules. */
const NO_RULES = { subjects: undefined, consent: undefined, testData: [], erasure: undefined, transforms: [] };

/** The Production key run `runKey` gave Pilot customer `pilotId` (its own id map, read with our own SQL). */
async function productionCustomer(runKey: string, pilotId: number): Promise<number | null> {
  const r = await rows<{ n: number }>(
    prod,
    `SELECT (k.new_key->>0)::int AS n FROM cutover.published_keys c
       CROSS JOIN LATERAL ROWS FROM (jsonb_array_elements(c.old_keys), jsonb_array_elements(c.new_keys)) AS k(old_key, new_key)
      WHERE c.run_key = $1 AND c.table_name = 'public.customer' AND c.outcome = 'moved' AND (k.old_key->>0)::int = $2`,
    [runKey, pilotId],
  );
  return r.length === 1 ? r[0].n : null;
}

const rentalsOf = (amount: string) =>
  rows<{ customer_id: number; email: string }>(
    prod,
    'SELECT r.customer_id, c.email FROM rental r JOIN customer c USING (customer_id) WHERE r.amount = $1::numeric ORDER BY r.rental_id',
    [amount],
  );
const counts = async () =>
  (
    await rows<{ c: number; r: number; a: number }>(
      prod,
      'SELECT (SELECT count(*)::int FROM customer) AS c, (SELECT count(*)::int FROM rental) AS r, (SELECT count(*)::int FROM address) AS a',
    )
  )[0];
const validated = (run: Published) =>
  new MockActivityEnvironment().run(validate, { ...run.input, publish: run.published, stage: run.staged }) as Promise<ValidateResult>;
const rolledBack = (run: Published) => new MockActivityEnvironment().run(rollback, { ...run.input, publish: run.published });
const cleanupOf = async (runKey: string) =>
  (await rows<{ r: CleanupResult }>(prod, 'SELECT cleanup_result AS r FROM cutover.run WHERE run_key = $1', [runKey]))[0].r;

test('a new rental of a customer an earlier run moved (ids: new) moves, remapped to that run’s Production key; rollbacks stay apart', async () => {
  const first = await publishRun(prod, plan(), 'roundtwo0001');
  const c1 = await productionCustomer('roundtwo0001', 1);
  expect(c1).not.toBeNull();
  const afterFirst = await counts();

  // The Pilot gains a rental for customer 1 (moved by run 1) and one for customer 7 (moved too, then withdraws consent).
  await rows(
    pilot,
    "INSERT INTO rental (customer_id, amount) VALUES (1, 777.77), (7, 555.55); UPDATE customer_consent SET status = 'withdrawn' WHERE customer_id = 7",
  );
  expect(await productionCustomer('roundtwo0001', 7)).not.toBeNull();
  // And a new customer at customer 1's address (address: selected as referenced, ids: new, moved by run 1).
  await rows(
    pilot,
    "INSERT INTO customer (customer_id, email, store_id, country_id, address_id) VALUES (100, 'shared@example.com', 1, 1, 1); INSERT INTO customer_consent VALUES (100, 'granted')",
  );

  // The dry run shows what the run will do: one rental to move, nothing else; customers already moved.
  const dry = (await preflight({ plan: plan() })) as DryRunReport;
  const table = (n: string) => dry.tables.find((t) => t.table === n)!;
  expect(table('public.rental').toMove).toBe(1);
  expect(table('public.customer').toMove).toBe(1);
  expect(table('public.address').toMove).toBe(0);
  expect(table('public.customer').leftBehind['already-moved:roundtwo0001']).toBe(afterFirst.c - 3);

  const second = await publishRun(prod, plan(), 'roundtwo0002');
  const cleaned = await cleanupOf('roundtwo0002');
  expect(cleaned.leftBehind['public.rental']).toEqual(table('public.rental').leftBehind);
  expect(await counts()).toEqual({ ...afterFirst, c: afterFirst.c + 1, r: afterFirst.r + 1 });
  // The new customer lives at the Production address run 1 moved for Pilot address 1 (customer 1's).
  expect(
    await rows(
      prod,
      "SELECT n.address_id = o.address_id AS same FROM customer n, customer o WHERE n.email = 'shared@example.com' AND o.customer_id = $1",
      [c1],
    ),
  ).toEqual([{ same: true }]);
  expect(await rentalsOf('777.77')).toEqual([{ customer_id: c1, email: 'c1@example.com' }]);
  expect(await rentalsOf('555.55')).toEqual([]); // its customer withdrew consent since: left behind
  // (Its chain names the customer's own removal, already-moved; the customer's consent is why the rental stays.)
  expect(cleaned.rootCauses?.['public.rental']?.['parent-left-behind:public.customer']).toMatchObject({
    'parent-left-behind:public.customer ← already-moved:roundtwo0001': 1,
  });
  expect((await validated(second)).ok).toBe(true);

  // Rolling run 2 back takes its rental only; run 1's customer and rows stay.
  await rolledBack(second);
  expect(await counts()).toEqual(afterFirst);
  expect(await rows(prod, 'SELECT email FROM customer WHERE customer_id = $1', [c1])).toEqual([{ email: 'c1@example.com' }]);

  // Run 1 rolled back too: its customer is gone, so the rental is not remapped to it. Run 3 moves customer 1
  // again under a new key, and the rental with it.
  await rolledBack(first);
  await publishRun(prod, plan(), 'roundtwo0003');
  const c1again = await productionCustomer('roundtwo0003', 1);
  expect(c1again).not.toBeNull();
  expect(c1again).not.toBe(c1);
  expect(await rentalsOf('777.77')).toEqual([{ customer_id: c1again, email: 'c1@example.com' }]);
  expect(await rows(prod, "SELECT count(*)::int AS n FROM customer WHERE email = 'c1@example.com'")).toEqual([{ n: 1 }]);
}, 240000);

test('the same under an ids: keep self-reference and an ids: new parent in a cycle; a rolled-back run lends no key', async () => {
  const { pilot: pilot2, prod: prod2 } = await freshShop('2');
  const p = () =>
    validatePlan(
      storeOnePlan('round-two-keep', {
        ...NO_RULES,
        tables: [
          { table: 'staff', select: { all: true } },
          { table: 'dept', select: { all: true }, ids: 'new' },
          { table: 'employee', select: { all: true }, ids: 'new' },
        ],
      }),
    );
  const first = await publishRun(prod2, p(), 'roundtwo0k01');
  const [{ ops }] = await rows<{ ops: number }>(
    prod2,
    `SELECT (k.new_key->>0)::int AS ops FROM cutover.published_keys c
       CROSS JOIN LATERAL ROWS FROM (jsonb_array_elements(c.old_keys), jsonb_array_elements(c.new_keys)) AS k(old_key, new_key)
      WHERE c.run_key = 'roundtwo0k01' AND c.table_name = 'public.dept' AND c.outcome = 'moved' AND (k.old_key->>0)::int = 1`,
  );
  await rows(pilot2, "INSERT INTO staff VALUES (4, 3, 'Newbie'); INSERT INTO employee (dept_id, name) VALUES (1, 'Neu')");
  const dry = (await preflight({ plan: p() })) as DryRunReport;
  expect(Object.fromEntries(dry.tables.map((t) => [t.table, t.toMove]))).toEqual({
    'public.staff': 1,
    'public.dept': 0,
    'public.employee': 1,
  });
  const second = await publishRun(prod2, p(), 'roundtwo0k02');
  expect(await rows(prod2, 'SELECT staff_id, manager_id FROM staff ORDER BY staff_id')).toEqual([
    { staff_id: 1, manager_id: null },
    { staff_id: 2, manager_id: 1 },
    { staff_id: 3, manager_id: 2 },
    { staff_id: 4, manager_id: 3 },
  ]);
  expect(
    await rows(
      prod2,
      "SELECT e.dept_id, d.name FROM employee e JOIN dept d USING (dept_id) WHERE e.name IN ('Neu', 'Olga') ORDER BY e.name",
    ),
  ).toEqual([
    { dept_id: ops, name: 'Ops' },
    { dept_id: ops, name: 'Ops' },
  ]);
  expect(await rows(prod2, "SELECT count(*)::int AS n FROM dept WHERE name = 'Ops'")).toEqual([{ n: 1 }]);
  expect((await validated(second)).ok).toBe(true);

  // Both rolled back (newest first): run 3 moves everything again; Neu follows the new Ops, not the deleted one.
  await rolledBack(second);
  await rolledBack(first);
  expect(await rows(prod2, 'SELECT count(*)::int AS n FROM staff')).toEqual([{ n: 0 }]);
  await publishRun(prod2, p(), 'roundtwo0k03');
  const neu = await rows<{ dept_id: number; name: string }>(
    prod2,
    "SELECT e.dept_id, d.name FROM employee e JOIN dept d USING (dept_id) WHERE e.name = 'Neu'",
  );
  expect(neu).toHaveLength(1);
  expect(neu[0].name).toBe('Ops');
  expect(neu[0].dept_id).not.toBe(ops);
  expect(await rows(prod2, 'SELECT count(*)::int AS n FROM staff')).toEqual([{ n: 4 }]);
}, 240000);

test('a parent moved before but deleted in Production since keeps its new child behind (dry run and run agree)', async () => {
  const { pilot: pilot3, prod: prod3 } = await freshShop('3');
  const p = () => validatePlan(storeOnePlan('round-two-gone', { ...NO_RULES, tables: [{ table: 'staff', select: { all: true } }] }));
  await publishRun(prod3, p(), 'roundtwo0g01');
  await rows(pilot3, "INSERT INTO staff VALUES (4, 3, 'Newbie'), (5, 2, 'Other')");
  await rows(prod3, 'DELETE FROM staff WHERE staff_id = 3'); // Production's own deletion since run 1
  const dry = (await preflight({ plan: p() })) as DryRunReport;
  const staff = dry.tables.find((t) => t.table === 'public.staff')!;
  expect(staff.toMove).toBe(1);
  expect(staff.leftBehind).toEqual({ 'already-moved:roundtwo0g01': 3, 'parent-left-behind:public.staff': 1 });
  await publishRun(prod3, p(), 'roundtwo0g02');
  expect(await rows(prod3, 'SELECT staff_id, manager_id FROM staff ORDER BY staff_id')).toEqual([
    { staff_id: 1, manager_id: null },
    { staff_id: 2, manager_id: 1 },
    { staff_id: 5, manager_id: 2 },
  ]);
  const cleaned = (await rows<{ r: CleanupResult }>(prod3, "SELECT cleanup_result AS r FROM cutover.run WHERE run_key = 'roundtwo0g02'"))[0]
    .r;
  expect(cleaned.rootCauses?.['public.staff']?.['parent-left-behind:public.staff']).toEqual({
    'parent-left-behind:public.staff ← already-moved:roundtwo0g01 (no longer in production)': 1,
  });
}, 240000);
