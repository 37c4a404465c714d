// A rehearsal's scratch database gets the Production rows that plan tables reference from outside
// the plan (transitively), read-only, so its FKs and dangling checks behave as the real run's; and
// Production-side erasure registers as they are in Production, replacing what the backup held.
import { copyFromProduction, copyReferencedParents } from '../activities/rehearsal/rehearsal-parents';
import { createDb, dbUrl, dropDb, rows, uniqueName } from './helpers/pg';

const SCHEMA = `
CREATE TABLE region (region_id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE store (store_id int PRIMARY KEY, region_id int NOT NULL REFERENCES region, label text GENERATED ALWAYS AS ('store ' || store_id) STORED);
CREATE TABLE customer (customer_id int PRIMARY KEY, store_id int NOT NULL REFERENCES store);
CREATE TABLE unrelated (id int PRIMARY KEY);`;
const base = uniqueName('cutover_rp');

afterAll(async () => {
  await dropDb(`${base}_prod`);
  await dropDb(`${base}_scratch`);
  await dropDb(`${base}_prod2`);
  await dropDb(`${base}_scratch2`);
});

test('parents outside the plan are copied from Production, transitively; plan tables and unrelated ones are not', async () => {
  const prod = await createDb(
    `${base}_prod`,
    SCHEMA +
      `
    INSERT INTO region VALUES (1, 'north'), (2, 'south');
    INSERT INTO store (store_id, region_id) VALUES (10, 1), (20, 2);
    INSERT INTO customer VALUES (100, 10);
    INSERT INTO unrelated VALUES (1);`,
  );
  // Before post-data is restored the scratch database has the tables but not their foreign keys.
  await createDb(`${base}_scratch`, SCHEMA.replace(/ REFERENCES \w+/g, '') + "INSERT INTO region VALUES (9, 'kept');");
  const copied = await copyReferencedParents(prod, dbUrl(`${base}_scratch`), [{ schema: 'public', name: 'customer' }]);
  // region already held rows in the scratch database (as with backup.scope full): left as it was.
  expect(copied).toEqual([{ table: 'public.store', rows: 2 }]);
  const scratch = dbUrl(`${base}_scratch`);
  expect(await rows(scratch, 'SELECT store_id, region_id, label FROM store ORDER BY 1')).toEqual([
    { store_id: 10, region_id: 1, label: 'store 10' },
    { store_id: 20, region_id: 2, label: 'store 20' },
  ]);
  expect(await rows(scratch, 'SELECT count(*)::int AS n FROM customer')).toEqual([{ n: 0 }]);
  expect(await rows(scratch, 'SELECT count(*)::int AS n FROM unrelated')).toEqual([{ n: 0 }]);
  await rows(scratch, 'TRUNCATE region');
  expect(await copyReferencedParents(prod, scratch, [{ schema: 'public', name: 'customer' }])).toEqual([
    { table: 'public.region', rows: 2 },
  ]);
});

test("Production-side registers replace the backup's rows (a plan table that is also a register keeps them); their parents come too", async () => {
  const REG = `
CREATE TABLE reason (reason_id int PRIMARY KEY, label text NOT NULL);
CREATE TABLE erasure_request (customer_id int NOT NULL, reason_id int REFERENCES reason);`;
  const prod = await createDb(
    `${base}_prod2`,
    SCHEMA +
      REG +
      `
    INSERT INTO region VALUES (1, 'north');
    INSERT INTO store (store_id, region_id) VALUES (10, 1);
    INSERT INTO reason VALUES (7, 'gdpr');
    INSERT INTO erasure_request VALUES (5, 7), (6, NULL);`,
  );
  // The backup (here: the scratch database before the copy) held an older register and one customer.
  const scratch = await createDb(
    `${base}_scratch2`,
    (SCHEMA + REG).replace(/ REFERENCES \w+/g, '') +
      'INSERT INTO erasure_request VALUES (99, NULL); INSERT INTO customer VALUES (100, 10);',
  );
  const copied = await copyFromProduction(
    prod,
    scratch,
    [{ schema: 'public', name: 'customer' }],
    [
      { schema: 'public', name: 'erasure_request' },
      { schema: 'public', name: 'customer' }, // a register that is a plan table: the backup's rows stand
    ],
  );
  expect(copied.registersCopied).toEqual([{ table: 'public.erasure_request', rows: 2 }]);
  expect(copied.parentsCopied).toEqual([
    { table: 'public.reason', rows: 1 },
    { table: 'public.region', rows: 1 },
    { table: 'public.store', rows: 1 },
  ]);
  expect(await rows(scratch, 'SELECT customer_id, reason_id FROM erasure_request ORDER BY 1')).toEqual([
    { customer_id: 5, reason_id: 7 },
    { customer_id: 6, reason_id: null },
  ]);
  expect(await rows(scratch, 'SELECT customer_id FROM customer')).toEqual([{ customer_id: 100 }]);
  // Nothing written to Production.
  expect(await rows(prod, 'SELECT count(*)::int AS n FROM erasure_request')).toEqual([{ n: 2 }]);
});
