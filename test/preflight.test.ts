// Bad input is refused by the preflight (the dry run behind `cutover plan check --connect`) with a
// message naming the place, and nothing is written to production.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { preflight } from '../activities/preflight';
import { validatePlan } from '../plan/validate';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, shopPlan } from './helpers/shop';

const base = uniqueName('cutover_pf');
let prod: string;

beforeAll(async () => {
  const pilot = await createDb(
    `${base}_pilot`,
    SHOP_SCHEMA +
      SHOP_PILOT +
      `
    CREATE TABLE hen (hen_id int PRIMARY KEY, egg_id int NOT NULL);
    CREATE TABLE egg (egg_id int PRIMARY KEY, hen_id int NOT NULL REFERENCES hen);
    ALTER TABLE hen ADD FOREIGN KEY (egg_id) REFERENCES egg DEFERRABLE INITIALLY DEFERRED;`,
  );
  prod = await createDb(
    `${base}_prod`,
    SHOP_SCHEMA +
      SHOP_PRODUCTION +
      `
    CREATE TABLE hen (hen_id int PRIMARY KEY, egg_id int NOT NULL);
    CREATE TABLE egg (egg_id int PRIMARY KEY, hen_id int NOT NULL REFERENCES hen);
    ALTER TABLE hen ADD FOREIGN KEY (egg_id) REFERENCES egg DEFERRABLE INITIALLY DEFERRED;`,
  );
  process.env.CUTOVER_DB_PILOT = pilot;
  process.env.CUTOVER_DB_PRODUCTION = prod;
}, 60000);

afterAll(async () => {
  await dropDb(`${base}_pilot`);
  await dropDb(`${base}_prod`);
});

type Mutate = (p: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
const customer = (p: Record<string, any>) => p.tables[1]; // eslint-disable-line @typescript-eslint/no-explicit-any

const CASES: [string, Mutate, string][] = [
  [
    'unknown table',
    (p) => p.tables.push({ table: 'nope', select: { all: true } }),
    'tables[9].table: unknown table public.nope in source (pilot)',
  ],
  [
    'unknown where column',
    (p) => (customer(p).select.where[0].column = 'shop'),
    'tables[1].select.where[0].column: unknown column "shop" in public.customer (source)',
  ],
  [
    'value of the wrong type',
    (p) => (customer(p).select.where[0].value = 'one'),
    'tables[1].select.where[0].value: "one" is not a valid integer',
  ],
  [
    'in-list with a wrong element',
    (p) => (customer(p).select = { where: [{ column: 'store_id', op: 'in', value: [1, 'x'] }] }),
    'tables[1].select.where[0].value: "x" is not a valid integer',
  ],
  [
    'testData value of the wrong type',
    (p) => (p.testData = [{ table: 'customer', where: [{ column: 'store_id', op: 'gt', value: 'many' }], reason: 'x' }]),
    'testData[0].where[0].value: "many" is not a valid integer',
  ],
  [
    'consent value of the wrong type',
    (p) => (p.consent.granted = [{ column: 'customer_id', op: 'eq', value: 'yes' }]),
    'consent.granted[0].value: "yes" is not a valid integer',
  ],
  [
    'follow on a column without FK',
    (p) => (p.tables[0].select = { follow: ['amount'] }),
    'tables[0].select.follow[0]: column "amount" of public.rental has no foreign key to follow',
  ],
  [
    'follow to a table not in the plan',
    (p) => (p.tables = p.tables.filter((t: { table: string }) => t.table !== 'customer')),
    'tables[0].select.follow[0]: "customer_id" references public.customer, which is not in the plan',
  ],
  [
    'followMoved to a table not in the plan',
    (p) => {
      p.tables[0].select = { followMoved: ['customer_id'] };
      p.tables = p.tables.filter((t: { table: string }) => t.table !== 'customer');
    },
    'tables[0].select.followMoved[0]: "customer_id" references public.customer, which is not in the plan',
  ],
  [
    'key that is not unique',
    (p) => (p.tables[6].key = ['city_id']),
    'tables[6].key: key (city_id) is not unique in public.measurement: {"city_id":1} appears 2 times',
  ],
  ['unknown key column', (p) => (customer(p).key = ['nope']), 'tables[1].key[0]: unknown column "nope"'],
  [
    'cycle with no way out',
    (p) => p.tables.push({ table: 'hen', select: { all: true } }, { table: 'egg', select: { all: true } }),
    'tables: foreign-key cycle between',
  ],
  [
    'ids new without a sequence',
    (p) => (p.tables[4].ids = 'new'),
    'tables[4].ids: ids: new needs one key column backed by a sequence or identity column in the target',
  ],
  ['unknown match column', (p) => Object.assign(p.tables[3], { match: ['iso'] }), 'tables[3].match[0]: unknown column "iso"'],
  [
    'testData on a table not in the plan',
    (p) => (p.testData[0].table = 'customer_consent'),
    'testData[0].table: table public.customer_consent is not in the plan',
  ],
  [
    'consent column unknown',
    (p) => (p.consent.subject = 'cust'),
    'consent.subject: unknown column "cust" in public.customer_consent (source)',
  ],
  [
    'erasure register table unknown',
    (p) => (p.erasure.registers[1].table = 'forget_me'),
    'erasure.registers[1].table: unknown table public.forget_me in target (production)',
  ],
  [
    'anonymize a table not in the plan',
    (p) => (p.erasure.anonymize = [{ table: 'customer_consent', columns: { status: null } }]),
    'erasure.anonymize[0].table: table public.customer_consent is not in the plan',
  ],
  [
    'anonymize an unknown column',
    (p) => (p.erasure.anonymize = [{ table: 'rental', columns: { nope: 0 } }]),
    'erasure.anonymize[0].columns.nope: unknown column "nope" in public.rental',
  ],
  [
    'anonymize a NOT NULL column to null',
    (p) => (p.erasure.anonymize = [{ table: 'rental', columns: { amount: null } }]),
    'erasure.anonymize[0].columns.amount: public.rental.amount is NOT NULL in the target: it cannot be anonymized to null',
  ],
  [
    'anonymize keeping an FK into erased rows',
    (p) => (p.erasure.anonymize = [{ table: 'rental', columns: { amount: 0 } }]),
    'erasure.anonymize[0].columns: public.rental keeps its rows, but its foreign key (customer_id) → public.customer points at rows an erasure deletes',
  ],
  [
    'anonymize a table that never reaches a subject',
    (p) => (p.erasure.anonymize = [{ table: 'staff', columns: { name: 'x' } }]),
    'erasure.anonymize[0].table: public.staff does not reach the subjects table public.customer',
  ],
  [
    'erasure.references naming no foreign key',
    (p) => (p.erasure.references = [{ table: 'rental', columns: ['amount'], action: 'delete' }]),
    'erasure.references[0].columns: public.rental has no foreign key (amount) into a plan table in the target; it has (customer_id) → public.customer',
  ],
  [
    'erasure.references nullifying a NOT NULL key',
    (p) => (p.erasure.references = [{ table: 'rental', columns: ['customer_id'], action: 'nullify' }]),
    'erasure.references[0].action: public.rental.customer_id is NOT NULL in the target',
  ],
  [
    'transform of a key column',
    (p) => (p.transforms = [{ table: 'customer', column: 'customer_id', fn: 'lower' }]),
    'transforms[0].column: public.customer.customer_id is a key',
  ],
  [
    'transform of a non-text column',
    (p) => (p.transforms = [{ table: 'rental', column: 'amount', fn: 'trim' }]),
    'transforms[0].column: public.rental.amount is numeric(10,2): transforms apply to text columns',
  ],
];

const productionState = () =>
  rows(prod, "SELECT (SELECT count(*) FROM customer) AS c, (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'cutover%') AS s");

test.each(CASES)('%s is refused with its place named', async (_name, mutate, expected) => {
  const plan = shopPlan('pf-bad');
  mutate(plan);
  const before = await productionState();
  await expect(preflight({ plan: validatePlan(plan) })).rejects.toMatchObject({
    type: 'PlanError',
    message: expect.stringContaining(expected),
  });
  expect(await productionState()).toEqual(before);
});

test('a match key that is not unique in production is refused with an example', async () => {
  await rows(prod, "INSERT INTO country (code, name) VALUES ('ZZ', 'Germany'), ('ZY', 'Germany')");
  try {
    const plan = shopPlan('pf-dup');
    Object.assign((plan.tables as Record<string, unknown>[])[3], { match: ['name'] });
    await expect(preflight({ plan: validatePlan(plan) })).rejects.toMatchObject({
      type: 'PlanError',
      message: expect.stringMatching(
        /tables\[3\]\.match: natural key \(name\) is not unique in public\.country \(production\): \{"name":"Germany"\} appears 2 times/,
      ),
    });
  } finally {
    await rows(prod, "DELETE FROM country WHERE code IN ('ZZ', 'ZY')");
  }
});

test('rows whose parent neither moves nor exists in production are named before anything is written', async () => {
  // Customers of store 1 reference addresses; select addresses by a filter that leaves most out.
  const plan = shopPlan('pf-dangling');
  (plan.tables as Record<string, unknown>[])[2].select = { where: [{ column: 'line', op: 'eq', value: 'Street 1' }] };
  await expect(preflight({ plan: validatePlan(plan) })).rejects.toMatchObject({
    type: 'PlanError',
    message: expect.stringMatching(
      /public\.customer rows reference public\.address rows that neither move nor exist in production .*\(customer_id\)=\(6\) → \(address_id\)=\(6\)/,
    ),
  });
});

test('the dry run counts what moves, merges and stays behind, per reason', async () => {
  const report = await preflight({ plan: validatePlan(shopPlan('pf-ok')) });
  const customer = report.tables.find((t) => t.table === 'public.customer')!;
  expect(customer).toMatchObject({
    total: 12,
    inScope: 10,
    toMove: 6,
    leftBehind: { 'test-account': 1, 'no-consent': 1, 'erasure-request': 2 },
  });
  expect(report.tables.find((t) => t.table === 'public.country')).toMatchObject({ inScope: 3, merged: 2, toMove: 1 });
  expect(report.order.indexOf('public.country')).toBeLessThan(report.order.indexOf('public.customer'));
  expect(report.order.indexOf('public.customer')).toBeLessThan(report.order.indexOf('public.rental'));
});

test('plan check --connect exits 1 when the dry run predicts that publish would refuse (keys production holds)', async () => {
  const { run } = await import('../client/main');
  const dir = mkdtempSync(path.join(tmpdir(), 'cutover-pc-'));
  const out: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s), isTTY: false };
  const file = path.join(dir, 'plan.json');
  writeFileSync(file, JSON.stringify(shopPlan('pf-cli')));
  expect(await run(['node', 'cutover', 'plan', 'check', file, '--connect'], io, process.env)).toBe(0);
  await rows(prod, "INSERT INTO staff (staff_id, name) VALUES (2, 'already here')");
  try {
    out.length = 0;
    expect(await run(['node', 'cutover', 'plan', 'check', file, '--connect'], io, process.env)).toBe(1);
    expect(out.join('\n')).toMatch(/refused ahead of time: public\.staff has 1 key\(s\) production already holds/);
  } finally {
    await rows(prod, 'DELETE FROM staff WHERE staff_id = 2');
  }
});
