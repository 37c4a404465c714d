// `referenced` closes over self-references, on real PostgreSQL through the workflow: a support rep's
// managers move with the rep (matched by email into a Production whose staff ids differ), a product's
// category brings every ancestor (ids: new, remapped), a reference cycle terminates, and rows that
// only a left-behind row needed go too. Production is checked by natural key, never by id.
import { useHarness } from './helpers/harness';
import { expectDryRunTruth, manifestCounts, planOf, runToCompletion } from './helpers/outcome';
import { rows } from './helpers/pg';

const SCHEMA = `
CREATE TABLE staff (staff_id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, reports_to int REFERENCES staff);
CREATE TABLE customer (customer_id serial PRIMARY KEY, email text NOT NULL, country text NOT NULL, rep_id int REFERENCES staff);
CREATE TABLE orders (order_id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customer, total numeric(10,2) NOT NULL);
CREATE TABLE category (category_id serial PRIMARY KEY, name text NOT NULL UNIQUE, parent_id int REFERENCES category);
CREATE TABLE product (product_id serial PRIMARY KEY, name text NOT NULL, category_id int NOT NULL REFERENCES category, on_sale boolean NOT NULL);
`;

// Staff: ceo ← vp ← rep.a, rep.b (the chain moving customers need); other.boss ← other.rep (only a
// customer that stays references it); lead.x ⇄ lead.y (a cycle) and solo.rep ← solo.boss, referenced
// only by test customers that cleanup leaves behind.
const PILOT = `
INSERT INTO staff (staff_id, email, name, reports_to) VALUES
  (1, 'ceo@shop.example', 'Ceo', NULL), (2, 'vp@shop.example', 'Vp', 1), (3, 'rep.a@shop.example', 'Rep A', 2),
  (4, 'rep.b@shop.example', 'Rep B', 2), (5, 'other.boss@shop.example', 'Other boss', NULL), (6, 'other.rep@shop.example', 'Other rep', 5),
  (7, 'lead.x@shop.example', 'Lead X', NULL), (8, 'lead.y@shop.example', 'Lead Y', 7), (9, 'solo.boss@shop.example', 'Solo boss', NULL),
  (10, 'solo.rep@shop.example', 'Solo rep', 9);
UPDATE staff SET reports_to = 8 WHERE staff_id = 7;
SELECT setval('staff_staff_id_seq', 10);
INSERT INTO customer (email, country, rep_id) VALUES
  ('ann@example.com', 'NO', 3), ('bob@example.com', 'NO', 3), ('cy@example.com', 'NO', 4), ('di@example.com', 'NO', NULL),
  ('qa1@test.example', 'NO', 7), ('qa2@test.example', 'NO', 10), ('eve@example.com', 'SE', 6);
INSERT INTO orders (customer_id, total) SELECT 1 + g % 7, g * 2.5 FROM generate_series(1, 21) g;
INSERT INTO category (category_id, name, parent_id) VALUES
  (1, 'All', NULL), (2, 'Electronics', 1), (3, 'Computers', 2), (4, 'Laptops', 3), (5, 'Garden', 1), (6, 'Tools', 5), (7, 'Toys', NULL), (8, 'Dolls', 7);
SELECT setval('category_category_id_seq', 8);
INSERT INTO product (name, category_id, on_sale) VALUES ('Laptop A', 4, true), ('Laptop B', 4, true), ('Drill', 6, true), ('Robot', 3, true), ('Teddy', 8, false);
`;

// Production: the same people under other ids (and one more), its own customers and categories.
const PRODUCTION = `
INSERT INTO staff (staff_id, email, name, reports_to) VALUES
  (50, 'prod.only@shop.example', 'Prod only', NULL), (51, 'ceo@shop.example', 'Ceo', NULL), (52, 'vp@shop.example', 'Vp', 51),
  (53, 'rep.b@shop.example', 'Rep B', 52), (54, 'rep.a@shop.example', 'Rep A', 52);
SELECT setval('staff_staff_id_seq', 54);
INSERT INTO customer (email, country, rep_id) VALUES ('prod1@example.com', 'DK', 53), ('prod2@example.com', 'DK', NULL);
INSERT INTO orders (customer_id, total) VALUES (1, 1.00), (2, 2.00);
INSERT INTO category (name, parent_id) VALUES ('Prod root', NULL), ('Prod leaf', 1);
`;

const h = useHarness('cutover_rc', SCHEMA + PILOT);
const one = async (url: string, sql: string) => (await rows<{ v: string }>(url, sql))[0]?.v;

test('a referenced rep brings the whole management chain; matched by email, production gains no staff', async () => {
  const prod = await h.production(SCHEMA + PRODUCTION);
  const staffBefore = `SELECT string_agg(s.email || '>' || coalesce(m.email, '-') || ':' || s.name, ',' ORDER BY s.email) AS v FROM staff s LEFT JOIN staff m ON m.staff_id = s.reports_to`;
  const before = await one(prod, staffBefore);
  const { result, report } = await runToCompletion(
    h,
    planOf(
      'rc-chain',
      [
        { table: 'orders', select: { follow: ['customer_id'] }, ids: 'new' },
        { table: 'customer', select: { where: [{ column: 'country', op: 'eq', value: 'NO' }] }, ids: 'new' },
        { table: 'staff', ids: 'match', match: ['email'] }, // select: referenced (the default)
      ],
      { testData: [{ table: 'customer', where: [{ column: 'email', op: 'like', value: '%@test.example' }], reason: 'test-account' }] },
    ),
  );
  expect(result.status).toBe('completed');

  // Staff: the chain (rep.a, rep.b, vp, ceo) was staged and merged; production is exactly as before.
  expect(await one(prod, staffBefore)).toBe(before);
  // Every moved customer points at the same person (by email) as in the Pilot; orders follow.
  const repOf = `SELECT string_agg(c.email || '>' || coalesce(s.email, '-'), ',' ORDER BY c.email) AS v FROM customer c LEFT JOIN staff s ON s.staff_id = c.rep_id`;
  const moved = "('ann@example.com', 'bob@example.com', 'cy@example.com', 'di@example.com')";
  expect(await one(prod, `${repOf} WHERE c.country = 'NO'`)).toBe(await one(h.pilot, `${repOf} WHERE c.email IN ${moved}`));
  expect(await one(prod, `${repOf} WHERE c.country = 'NO'`)).toBe(
    'ann@example.com>rep.a@shop.example,bob@example.com>rep.a@shop.example,cy@example.com>rep.b@shop.example,di@example.com>-',
  );
  const ordersOf = `SELECT string_agg(c.email || ':' || o.total, ',' ORDER BY c.email, o.total) AS v FROM orders o JOIN customer c USING (customer_id)`;
  expect(await one(prod, `${ordersOf} WHERE c.country = 'NO'`)).toBe(await one(h.pilot, `${ordersOf} WHERE c.email IN ${moved}`));

  // Manifest: the chain merged as referenced; the cycle and the solo chain went when their test
  // customers did (a cycle does not keep itself alive); other.* never were in scope.
  expect(await manifestCounts(prod, result.runKey)).toEqual({
    'public.customer|left-behind|test-account': 2,
    'public.customer|moved|': 4,
    'public.orders|left-behind|parent-left-behind:public.customer': 6,
    'public.orders|moved|': 12,
    'public.staff|left-behind|no-longer-referenced': 4,
    'public.staff|merged|referenced': 4,
  });
  const staffDry = report.dryRun!.tables.find((t) => t.table === 'public.staff')!;
  expect(staffDry).toMatchObject({ total: 10, inScope: 8, merged: 4, toMove: 0, leftBehind: { 'no-longer-referenced': 4 } });
  expectDryRunTruth(report);
}, 240000);

test('a category referenced by products brings every ancestor, remapped (ids: new)', async () => {
  const prod = await h.production(SCHEMA + PRODUCTION);
  const { result, report } = await runToCompletion(
    h,
    planOf('rc-tree', [
      { table: 'product', select: { where: [{ column: 'on_sale', op: 'eq', value: true }] }, ids: 'new' },
      { table: 'category', ids: 'new' },
    ]),
  );
  expect(result.status).toBe('completed');

  // Each moved product sits at the end of the same path of category names as in the Pilot.
  const pathOf = `WITH RECURSIVE up(product, category_id, path) AS (
      SELECT p.name, c.parent_id, c.name FROM product p JOIN category c USING (category_id) %WHERE%
      UNION ALL SELECT up.product, c.parent_id, c.name || '/' || up.path FROM up JOIN category c ON c.category_id = up.category_id)
    SELECT string_agg(product || '=' || path, ',' ORDER BY product) AS v FROM up WHERE category_id IS NULL`;
  const paths = await one(prod, pathOf.replace('%WHERE%', "WHERE p.name <> 'Teddy'"));
  expect(paths).toBe(await one(h.pilot, pathOf.replace('%WHERE%', 'WHERE p.on_sale')));
  expect(paths).toBe(
    'Drill=All/Garden/Tools,Laptop A=All/Electronics/Computers/Laptops,Laptop B=All/Electronics/Computers/Laptops,Robot=All/Electronics/Computers',
  );
  // Only those ancestors moved, with new ids; production's own categories untouched.
  expect(await one(prod, "SELECT string_agg(name, ',' ORDER BY name) AS v FROM category")).toBe(
    'All,Computers,Electronics,Garden,Laptops,Prod leaf,Prod root,Tools',
  );
  expect(
    await one(
      prod,
      "SELECT string_agg(c.name || '>' || coalesce(p.name, '-'), ',' ORDER BY c.name) AS v FROM category c LEFT JOIN category p ON p.category_id = c.parent_id WHERE c.category_id <= 2",
    ),
  ).toBe('Prod leaf>Prod root,Prod root>-');
  expect(await one(prod, "SELECT min(category_id)::text AS v FROM category WHERE name = 'All'")).toBe('3');

  expect(await manifestCounts(prod, result.runKey)).toEqual({ 'public.category|moved|referenced': 6, 'public.product|moved|': 4 });
  expect(report.dryRun!.tables.find((t) => t.table === 'public.category')).toMatchObject({ total: 8, inScope: 6, toMove: 6 });
  expectDryRunTruth(report);
}, 240000);
