// One identity for every row (activities/db/row-identity.ts), on real PostgreSQL: an order-lines
// table keyed by (order_id, product_id) with ids: keep, whose orders are ids: new and products ids:
// match, plus a composite text key (order_tags) and a uuid key (shipments). Production already holds
// lines under the Pilot's raw keys, so anything that names "this run's rows" by the Pilot's key
// goes wrong: the dry run (false collisions), plan check --connect, validation (preExisting full),
// the rehearsal, the id map and surgical rollback. Also: a Production unique index other than the
// key (an expression index on lower(email); a partial one) predicts its conflict, by name.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { preflight } from '../activities/preflight';
import { rollback } from '../activities/rollback';
import { validate } from '../activities/validate';
import { asEvidence } from '../common/evidence';
import type { ValidateResult } from '../common/results';
import { validatePlan } from '../plan/validate';
import { useHarness } from './helpers/harness';
import { expectDryRunTruth, planOf, runToCompletion } from './helpers/outcome';
import { rows } from './helpers/pg';
import { publishRun, schemaChecked } from './helpers/steps';

const SCHEMA = `
CREATE TABLE orders (order_id serial PRIMARY KEY, ref text NOT NULL);
CREATE TABLE products (product_id serial PRIMARY KEY, sku text NOT NULL UNIQUE);
CREATE TABLE tags (tag text PRIMARY KEY);
CREATE TABLE order_lines (order_id int NOT NULL REFERENCES orders, product_id int NOT NULL REFERENCES products, qty int NOT NULL, PRIMARY KEY (order_id, product_id));
CREATE TABLE order_tags (order_id int NOT NULL REFERENCES orders, tag text NOT NULL REFERENCES tags, PRIMARY KEY (order_id, tag));
CREATE TABLE shipments (shipment_id uuid PRIMARY KEY, order_id int NOT NULL REFERENCES orders, carrier text NOT NULL);
CREATE TABLE order_notes (order_id int NOT NULL REFERENCES orders, note_no serial, body text NOT NULL, PRIMARY KEY (order_id, note_no));
CREATE TABLE customers (customer_id serial PRIMARY KEY, email text NOT NULL, code text NOT NULL, active boolean NOT NULL);
CREATE UNIQUE INDEX customers_email_lower ON customers (lower(email));
CREATE UNIQUE INDEX customers_code_active ON customers (code) WHERE active;
`;

const PILOT = `
INSERT INTO orders (ref) VALUES ('P-1'), ('P-2'), ('P-3');
INSERT INTO products (sku) VALUES ('A'), ('B'), ('C'), ('D');
INSERT INTO tags VALUES ('red'), ('blue');
INSERT INTO order_lines VALUES (1, 1, 5), (1, 2, 1), (2, 2, 2), (3, 3, 7), (3, 4, 1);
INSERT INTO order_tags VALUES (1, 'red'), (3, 'blue');
INSERT INTO shipments VALUES ('00000000-0000-0000-0000-00000000000a', 1, 'dhl'), ('00000000-0000-0000-0000-00000000000b', 3, 'ups');
INSERT INTO order_notes (order_id, body) VALUES (1, 'n1'), (3, 'n3');
INSERT INTO customers (email, code, active) VALUES ('ann@example.com', 'c1', true), ('BOB@example.com', 'c2', true), ('cy@example.com', 'c3', false);
`;

// Production's own orders 1–5 and lines under exactly the Pilot's raw keys; product C is already
// there (as 3), A and B under other keys (10, 11), 1 and 2 are other products.
const PRODUCTION = `
INSERT INTO orders (order_id, ref) VALUES (1, 'X-1'), (2, 'X-2'), (3, 'X-3'), (4, 'X-4'), (5, 'X-5');
INSERT INTO products (product_id, sku) VALUES (1, 'X'), (2, 'Y'), (3, 'C'), (10, 'A'), (11, 'B');
INSERT INTO tags VALUES ('red'), ('blue'), ('green');
INSERT INTO order_lines VALUES (1, 1, 9), (1, 2, 9), (2, 2, 9), (3, 3, 9);
INSERT INTO order_tags VALUES (1, 'red'), (3, 'blue');
INSERT INTO shipments VALUES ('00000000-0000-0000-0000-00000000000c', 1, 'own');
INSERT INTO order_notes (order_id, note_no, body) VALUES (1, 1, 'own');
SELECT setval('orders_order_id_seq', 5), setval('products_product_id_seq', 11), setval('order_notes_note_no_seq', 1);
`;

// bob@ collides with BOB@ under lower(email); c3 is active in Production but not in the Pilot row.
const CUSTOMERS = `
INSERT INTO customers (customer_id, email, code, active) VALUES (50, 'bob@example.com', 'c9', true), (51, 'zed@example.com', 'c3', true), (52, 'q@example.com', 'c1', false);
SELECT setval('customers_customer_id_seq', 51);
`;

const h = useHarness('cutover_rid', SCHEMA + PILOT);
const one = async (url: string, sql: string) => (await rows<{ v: string }>(url, sql))[0]?.v;

const TABLES = [
  { table: 'orders', select: { all: true }, ids: 'new' },
  { table: 'products', select: { all: true }, ids: 'match', match: ['sku'] },
  { table: 'order_lines', select: { all: true }, ids: 'keep' },
  { table: 'order_tags', select: { all: true }, ids: 'keep' },
  { table: 'shipments', select: { all: true }, ids: 'keep' },
  // ids: new with a key made of a remapped parent's key and the table's own sequence.
  { table: 'order_notes', select: { all: true }, ids: 'new' },
];

/** Lines, tags and shipments of the Pilot's orders (P-…) by their orders' and products' natural values. */
const CONTENT = `SELECT string_agg(x, ',' ORDER BY x) AS v FROM (
  SELECT 'line:' || o.ref || '/' || p.sku || '/' || l.qty AS x FROM order_lines l JOIN orders o USING (order_id) JOIN products p USING (product_id) WHERE o.ref LIKE 'P-%'
  UNION ALL SELECT 'tag:' || o.ref || '/' || t.tag FROM order_tags t JOIN orders o USING (order_id) WHERE o.ref LIKE 'P-%'
  UNION ALL SELECT 'ship:' || s.shipment_id || '/' || o.ref || '/' || s.carrier FROM shipments s JOIN orders o USING (order_id) WHERE o.ref LIKE 'P-%'
  UNION ALL SELECT 'note:' || o.ref || '/' || n.body FROM order_notes n JOIN orders o USING (order_id) WHERE o.ref LIKE 'P-%') y`;
const PRODUCTION_OWN = `SELECT string_agg(x::text, ',' ORDER BY x::text) AS v FROM (
  SELECT l::text AS x FROM order_lines l WHERE order_id <= 5 UNION ALL SELECT t::text FROM order_tags t WHERE order_id <= 5
  UNION ALL SELECT s::text FROM shipments s WHERE order_id <= 5 UNION ALL SELECT n::text FROM order_notes n WHERE order_id <= 5 UNION ALL SELECT o::text FROM orders o WHERE order_id <= 5
  UNION ALL SELECT p::text FROM products p WHERE product_id <= 11) y`;
const ALL = `SELECT string_agg(x, E'\\n' ORDER BY x) AS v FROM (
  SELECT 'o' || o::text AS x FROM orders o UNION ALL SELECT 'p' || p::text FROM products p UNION ALL SELECT 'l' || l::text FROM order_lines l
  UNION ALL SELECT 't' || t::text FROM order_tags t UNION ALL SELECT 's' || s::text FROM shipments s UNION ALL SELECT 'n' || n::text FROM order_notes n) y`;

test('order lines keyed by remapped parents: dry run, rehearsal, validation (preExisting full) and the id map name the Production rows', async () => {
  const prod = await h.production(SCHEMA + PRODUCTION);
  const own = await one(prod, PRODUCTION_OWN);
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-rid-'));
  const plan = planOf('rid-lines', TABLES, {
    backup: { store: `file://${store}` },
    rehearsal: { mode: 'scratch' },
    validation: { preExisting: 'full' },
  });

  // plan check --connect: the valid plan is not refused (the Pilot's raw keys are not Production's).
  const { run } = await import('../client/main');
  const out: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s), isTTY: false };
  const file = path.join(store, 'plan.json');
  writeFileSync(file, JSON.stringify(planOf('rid-lines', TABLES)));
  expect([await run(['node', 'cutover', 'plan', 'check', file, '--connect'], io, process.env), out.join('\n')]).toEqual([
    0,
    expect.stringMatching(/\nok$/),
  ]);

  const { result, report } = await runToCompletion(h, plan);
  expect(result.status).toBe('completed');
  for (const t of report.dryRun!.tables) expect([t.table, t.collisions]).toEqual([t.table, 0]);
  expect(report.dryRun!.warnings.join('\n')).not.toMatch(/already exist/);
  expect(report.rehearsal).toMatchObject({ ok: true });
  expectDryRunTruth(report);

  // Our own SQL: every moved line/tag/shipment names the same order and product as in the Pilot;
  // Production's own rows are untouched.
  const pilot = await one(h.pilot, CONTENT);
  expect(pilot).toContain('line:P-3/D/1');
  expect(pilot).toContain('note:P-3/n3');
  expect(await one(prod, CONTENT)).toBe(pilot);
  expect(await one(prod, PRODUCTION_OWN)).toBe(own);

  // The id map holds Pilot key → Production key for the keep tables whose key is made of remapped FKs.
  const pairs = await rows<{ t: string; o: string; n: string }>(
    prod,
    `SELECT table_name AS t, old_key::text AS o, new_key::text AS n FROM cutover.id_map WHERE run_key = $1 AND table_name IN ('public.order_lines', 'public.order_tags', 'public.order_notes') ORDER BY 1, 2`,
    [result.runKey],
  );
  expect(pairs).toEqual([
    { t: 'public.order_lines', o: '[1, 1]', n: '[6, 10]' },
    { t: 'public.order_lines', o: '[1, 2]', n: '[6, 11]' },
    { t: 'public.order_lines', o: '[2, 2]', n: '[7, 11]' },
    { t: 'public.order_lines', o: '[3, 3]', n: '[8, 3]' },
    { t: 'public.order_lines', o: '[3, 4]', n: '[8, 12]' },
    { t: 'public.order_notes', o: '[1, 1]', n: '[6, 2]' },
    { t: 'public.order_notes', o: '[3, 2]', n: '[8, 3]' },
    { t: 'public.order_tags', o: '[1, "red"]', n: '[6, "red"]' },
    { t: 'public.order_tags', o: '[3, "blue"]', n: '[8, "blue"]' },
  ]);
  // Every recorded Production key is a row Production holds.
  expect(
    await one(
      prod,
      `SELECT count(*)::text AS v FROM cutover.id_map m JOIN order_lines l ON l.order_id = (m.new_key->>0)::int AND l.product_id = (m.new_key->>1)::int WHERE m.run_key = '${result.runKey}' AND m.table_name = 'public.order_lines'`,
    ),
  ).toBe('5');

  // idChanges: the old→new pairs per table, and the pairs file in the store next to the pack.
  const changes = Object.fromEntries(asEvidence(report).idChanges.tables.map((t) => [t.table, [t.pairs, t.keysChanged]]));
  // products: A, B, C merged (C keeps 3), D moved as 12; shipments keep their uuid keys.
  expect(changes).toEqual({
    'public.orders': [3, 3],
    'public.products': [4, 3],
    'public.order_lines': [5, 5],
    'public.order_tags': [2, 2],
    'public.order_notes': [2, 2],
  });
  const stored = JSON.parse(readFileSync(path.join(store, 'rid-lines', result.runKey, 'evidence.json'), 'utf8'));
  const pairsFile = readFileSync(path.join(store, 'rid-lines', result.runKey, 'id-pairs.jsonl'));
  expect(stored.idChanges.pairsFile).toMatchObject({ rows: 16, sha256: createHash('sha256').update(pairsFile).digest('hex') });
  expect(pairsFile.toString('utf8').split('\n').filter(Boolean)).toHaveLength(16);
  out.length = 0;
  expect(await run(['node', 'cutover', 'report', 'rid-lines', '--ids'], io, { ...process.env, TEMPORAL_ADDRESS: h.env.address })).toBe(0);
  const printed = out.join('\n');
  expect(printed).toContain('public.order_lines\t[1,1]\t[6,10]');
  expect(printed).toContain('public.orders\t[3]\t[8]');
}, 400000);

test("surgical rollback and validation with preExisting full find the run's own order lines, not Production's", async () => {
  const prod = await h.production(SCHEMA + PRODUCTION);
  const before = await one(prod, ALL);
  const plan = schemaChecked(planOf('rid-rb', TABLES, { validation: { preExisting: 'full' } }));
  const published = await publishRun(prod, plan, 'ridrb001');
  const env = new MockActivityEnvironment();
  const v = (await env.run(validate, { ...published.input, publish: published.published, stage: published.staged })) as ValidateResult;
  expect(v.ok).toBe(true);
  const r = await rollback({ ...published.input, publish: published.published });
  expect(r.tables.find((t) => t.table === 'public.order_lines')).toMatchObject({ deleted: 5, equal: true });
  expect(await one(prod, ALL)).toBe(before);
}, 200000);

test('a Production unique index other than the key predicts its conflict, by name; plan check --connect refuses it', async () => {
  const prod = await h.production(SCHEMA + CUSTOMERS);
  const plan = planOf('rid-uniq', [{ table: 'customers', select: { all: true }, ids: 'new' }]);
  const report = await preflight({ plan: validatePlan(plan) });
  const customers = report.tables.find((t) => t.table === 'public.customers')!;
  expect(customers.conflicts).toEqual([
    { constraint: 'customers_email_lower', kind: 'unique index', columns: 'lower(email)', existing: 1, duplicates: 0 },
  ]);
  expect(report.warnings.join('\n')).toContain('customers_email_lower');

  const { run } = await import('../client/main');
  const out: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s), isTTY: false };
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'cutover-rid-')), 'plan.json');
  writeFileSync(file, JSON.stringify(plan));
  expect(await run(['node', 'cutover', 'plan', 'check', file, '--connect'], io, process.env)).toBe(1);
  expect(out.join('\n')).toMatch(/refused ahead of time: .*public\.customers.*customers_email_lower/);
  // Nothing was written by the dry run.
  expect(await one(prod, 'SELECT count(*)::text AS v FROM customers')).toBe('3');
}, 120000);
