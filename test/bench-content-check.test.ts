// The bench's correctness-by-content check (bench/content-check.ts) on real databases: a correct load
// (the raw baseline's selection into an empty Production) passes, and each way a peer has been seen to
// get it wrong fails it — a child moved to another parent (pgsync's corruption), a row skipped, a
// pre-existing Production row changed, whole tables copied (test accounts and erased people included).
import { generatePilot, generateProduction, PLAN_TABLES } from '../bench/generate';
import { choosePlan, rawSelects } from '../bench/plan';
import { runRaw } from '../bench/raw';
import { expectedFingerprints, judge, productionCodes, productionFingerprints, verdictNote } from '../bench/content-check';
import { createDb, dropDb, withDb } from './helpers/pg';

const pilotName = `cutover_t_content_pilot_${process.pid}`;
const prodName = `cutover_t_content_prod_${process.pid}`;
let pilot: string;
let prod: string;
const selects = rawSelects(choosePlan('content-check'));

beforeAll(async () => {
  pilot = await createDb(pilotName, 'SELECT 1');
  await generatePilot(pilot, 300);
}, 60000);

afterAll(async () => {
  await dropDb(pilotName);
  await dropDb(prodName);
});

async function freshProduction(preExisting: boolean): Promise<string> {
  await dropDb(prodName);
  const url = await createDb(prodName, 'SELECT 1');
  await generateProduction(url, 300, preExisting);
  return url;
}

async function verdictAfter(change: (url: string) => Promise<void>) {
  prod = await freshProduction(false);
  const before = await productionFingerprints(prod, PLAN_TABLES);
  const expected = await expectedFingerprints(pilot, selects, await productionCodes(prod));
  await runRaw(pilot, prod, selects);
  await change(prod);
  return judge(expected, before, await productionFingerprints(prod, PLAN_TABLES));
}

test('the plan selection loaded as it is is correct by content', async () => {
  const v = await verdictAfter(async () => {});
  expect(v).toEqual({ correct: true, wrong: {} });
  expect(verdictNote(v)).toBe('correct by content');
}, 60000);

test('an order item moved to another order of the same customer is wrong (same row count)', async () => {
  const v = await verdictAfter((url) =>
    withDb(url, async (c) => {
      const r =
        await c.query(`UPDATE order_items i SET order_id = (SELECT max(o.id) FROM orders o JOIN orders p ON p.customer_id = o.customer_id
                                 WHERE p.id = i.order_id AND o.id <> i.order_id)
                               WHERE i.id = (SELECT min(i2.id) FROM order_items i2 JOIN orders o2 ON o2.id = i2.order_id
                                             WHERE (SELECT count(*) FROM orders o3 WHERE o3.customer_id = o2.customer_id) > 1)`);
      expect(r.rowCount).toBe(1);
    }),
  );
  expect(v.correct).toBe(false);
  expect(Object.keys(v.wrong)).toEqual(['order_items']);
  expect(v.wrong.order_items).toMatchObject({ sameContent: false });
  expect(v.wrong.order_items.addedRows).toBe(v.wrong.order_items.expectedRows);
  expect(verdictNote(v)).toMatch(/order_items added \d+ of \d+ \(other content\)/);
}, 60000);

test('a skipped payment and a changed pre-existing row are wrong', async () => {
  const v = await verdictAfter((url) =>
    withDb(url, async (c) => {
      await c.query('DELETE FROM payments WHERE id = (SELECT min(id) FROM payments)');
      await c.query(`UPDATE countries SET name = name || ' (renamed)' WHERE id = (SELECT min(id) FROM countries)`);
    }),
  );
  expect(v.correct).toBe(false);
  expect(v.wrong.payments.addedRows).toBe(v.wrong.payments.expectedRows - 1);
  expect(v.wrong.countries).toBeDefined();
}, 60000);

test('whole tables copied (test accounts, unconsented and erased customers too) are wrong', async () => {
  prod = await freshProduction(false);
  const before = await productionFingerprints(prod, PLAN_TABLES);
  const expected = await expectedFingerprints(pilot, selects, await productionCodes(prod));
  const whole = selects.map((s) => ({ ...s, sql: `SELECT * FROM ${s.table}` }));
  await runRaw(pilot, prod, whole);
  const v = judge(expected, before, await productionFingerprints(prod, PLAN_TABLES));
  expect(v.correct).toBe(false);
  for (const t of ['customers', 'orders', 'order_items', 'payments']) expect(v.wrong[t].addedRows).toBeGreaterThan(v.wrong[t].expectedRows);
}, 60000);

test('countries Production already holds are not expected again (ids match merges them)', async () => {
  prod = await freshProduction(true);
  const expected = await expectedFingerprints(pilot, selects, await productionCodes(prod));
  expect(expected.countries.n).toBe(0n);
  expect(expected.customers.n).toBeGreaterThan(0n);
}, 60000);
