// `select: { followMoved: [fk columns] }` takes only the children of rows this run moves, where
// `follow` also takes children of parents that already exist in Production (ids keep / match). On
// real PostgreSQL: the dry run's counts and stage's staged rows equal the test's own SQL over the
// Pilot, a parent filtered out of scope takes its followMoved children with it, and a parent left
// behind in cleanup takes them too (parent-left-behind), in the manifest.
import { MockActivityEnvironment } from '@temporalio/testing';
import { cleanup } from '../activities/cleanup';
import { preflight } from '../activities/preflight';
import { stage } from '../activities/stage';
import type { CleanupResult, StageResult, StepInput } from '../common/results';
import { validatePlan } from '../plan/validate';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';

const base = uniqueName('cutover_selmoved');
const SCHEMA = `
CREATE TABLE customer (customer_id int PRIMARY KEY, email text NOT NULL, is_test boolean NOT NULL DEFAULT false);
CREATE TABLE orders (order_id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customer);
CREATE TABLE product (product_id int PRIMARY KEY, sku text NOT NULL UNIQUE);
CREATE TABLE order_line (order_id int NOT NULL REFERENCES orders, product_id int NOT NULL REFERENCES product, qty int NOT NULL,
  PRIMARY KEY (order_id, product_id));
`;
// Production holds customers 1–2, their orders 1–4 and products 1–3; the Pilot began as a copy of
// that, then gained customers 3–6 (5 is a test account; 6 is not selected) with orders and lines.
const PRODUCTION = `
INSERT INTO customer VALUES (1, 'a@example.com', false), (2, 'b@example.com', false);
INSERT INTO orders VALUES (1, 1), (2, 1), (3, 2), (4, 2);
INSERT INTO product SELECT g, 'sku-' || g FROM generate_series(1, 3) g;
INSERT INTO order_line SELECT o, p, 1 FROM generate_series(1, 4) o, generate_series(1, 2) p;
`;
const PILOT = `${PRODUCTION}
INSERT INTO customer VALUES (3, 'c@example.com', false), (4, 'd@example.com', false), (5, 'e@test.example', true), (6, 'f@example.com', false);
INSERT INTO product SELECT g, 'sku-' || g FROM generate_series(4, 5) g;
INSERT INTO orders SELECT g, 3 + g % 4 FROM generate_series(10, 29) g;
INSERT INTO order_line SELECT o, p, 2 FROM generate_series(10, 29) o, generate_series(1, 5) p WHERE (o + p) % 3 <> 0;
INSERT INTO order_line VALUES (1, 4, 3), (3, 5, 3);
`;
let pilot: string;
let prod: string;

beforeAll(async () => {
  pilot = await createDb(`${base}_pilot`, SCHEMA + PILOT);
  prod = await createDb(`${base}_prod`, SCHEMA + PRODUCTION);
  process.env.CUTOVER_DB_PILOT = pilot;
  process.env.CUTOVER_DB_PRODUCTION = prod;
}, 60000);

afterAll(async () => {
  await dropDb(`${base}_pilot`);
  await dropDb(`${base}_prod`);
});

const plan = (id: string, orders: Record<string, unknown>, lines: Record<string, unknown>) =>
  validatePlan({
    version: 1,
    id,
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['a', 'b'], required: 1 },
    tables: [
      { table: 'customer', select: { where: [{ column: 'customer_id', op: 'in', value: [3, 4, 5] }] } },
      { table: 'orders', select: orders },
      { table: 'product', ids: 'match', match: ['sku'] },
      { table: 'order_line', select: lines },
    ],
    testData: [{ table: 'customer', where: [{ column: 'is_test', op: 'eq', value: true }], reason: 'test-account' }],
  });

const n = async (sql: string) => (await rows<{ n: number }>(pilot, `SELECT count(*)::int AS n FROM (${sql}) x`))[0].n;
const MOVING_ORDERS = 'SELECT order_id FROM orders WHERE customer_id IN (3, 4, 5)';
/** Orders that follow: a parent moves (3–5) or exists in Production by its kept key (1–2); not 6. */
const FOLLOWED_ORDERS = 'SELECT order_id FROM orders WHERE customer_id IN (1, 2, 3, 4, 5)';
const TEST_ORDERS = 'SELECT order_id FROM orders WHERE customer_id = 5';

const inScope = (report: Awaited<ReturnType<typeof preflight>>) => Object.fromEntries(report.tables.map((t) => [t.table, t.inScope]));

test('followMoved takes only the children of moving parents; follow also takes those of parents already in Production', async () => {
  const moved = await preflight({ plan: plan('moved-only', { followMoved: ['customer_id'] }, { followMoved: ['order_id'] }) });
  expect(inScope(moved)['public.orders']).toBe(await n(MOVING_ORDERS));
  expect(inScope(moved)['public.order_line']).toBe(await n(`SELECT 1 FROM order_line WHERE order_id IN (${MOVING_ORDERS})`));
  expect(moved.tables.find((t) => t.table === 'public.order_line')?.select).toBe('follow moved order_id');

  // The same tables with follow: orders of customers 1 and 2 (in Production by key) and their lines too.
  const any = await preflight({ plan: plan('follow-any', { follow: ['customer_id'] }, { follow: ['order_id'] }) });
  expect(inScope(any)['public.orders']).toBe(await n(FOLLOWED_ORDERS));
  expect(inScope(any)['public.order_line']).toBe(
    await n(
      `SELECT 1 FROM order_line WHERE order_id IN (${FOLLOWED_ORDERS}) OR order_id IN (SELECT order_id FROM orders WHERE order_id <= 4)`,
    ),
  );
  expect(inScope(any)['public.orders']).toBeGreaterThan(inScope(moved)['public.orders']);

  // Left behind: customer 5's orders and their lines, as the dry run counts them.
  const left = Object.fromEntries(moved.tables.map((t) => [t.table, t.leftBehind]));
  expect(left['public.orders']).toEqual({ 'parent-left-behind:public.customer': await n(TEST_ORDERS) });
  expect(left['public.order_line']).toEqual({
    'parent-left-behind:public.orders': await n(`SELECT 1 FROM order_line WHERE order_id IN (${TEST_ORDERS})`),
  });
}, 120000);

test('a followMoved parent that the scope filter drops takes its children with it (orders of customer 6, who neither moves nor exists in Production)', async () => {
  // orders follows (any parent): staged with every customer, then customer 6's orders are filtered;
  // order_line followMoved: staged under every staged order, then filtered with them.
  const report = await preflight({ plan: plan('moved-filtered', { follow: ['customer_id'] }, { followMoved: ['order_id'] }) });
  expect(inScope(report)['public.orders']).toBe(await n(FOLLOWED_ORDERS));
  expect(inScope(report)['public.order_line']).toBe(await n(`SELECT 1 FROM order_line WHERE order_id IN (${FOLLOWED_ORDERS})`));
}, 120000);

test("stage stages what the dry run counted; cleanup leaves a test customer's followMoved children behind (parent-left-behind), in the manifest", async () => {
  const p = plan('moved-run', { followMoved: ['customer_id'] }, { followMoved: ['order_id'] });
  const dry = await preflight({ plan: p });
  const input: StepInput = { plan: p, runKey: 'selmoved0001', workflowId: 'cutover-moved-run', runId: 'r1' };
  const env = new MockActivityEnvironment();
  const staged = (await env.run(stage, input)) as StageResult;
  expect(Object.fromEntries(staged.tables.map((t) => [t.table, t.rows]))).toEqual(inScope(dry));
  const lines = await rows<{ n: number }>(prod, 'SELECT count(*)::int AS n FROM cutover_stage_selmoved0001.t3_order_line');
  expect(lines[0].n).toBe(await n(`SELECT 1 FROM order_line WHERE order_id IN (${MOVING_ORDERS})`));

  const result = (await env.run(cleanup, input)) as CleanupResult;
  expect(result.leftBehind).toEqual(
    Object.fromEntries(dry.tables.filter((t) => Object.keys(t.leftBehind).length).map((t) => [t.table, t.leftBehind])),
  );
  const manifest = await rows<{ k: string }>(
    prod,
    "SELECT string_agg(key->>0 || '/' || (key->>1), ',' ORDER BY (key->>0)::int, (key->>1)::int) AS k FROM cutover.manifest WHERE run_key = $1 AND table_name = 'public.order_line' AND reason = 'parent-left-behind:public.orders'",
    [input.runKey],
  );
  const expected = await rows<{ k: string }>(
    pilot,
    `SELECT string_agg(order_id || '/' || product_id, ',' ORDER BY order_id, product_id) AS k FROM order_line WHERE order_id IN (${TEST_ORDERS})`,
  );
  expect(manifest[0].k).toBe(expected[0].k);
}, 180000);
