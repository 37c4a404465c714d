// The manifest and id map as chunks of cutover.published_keys, on real PostgreSQL: the views give
// back exactly the map publish wrote, pair by pair across chunk boundaries (25 000 rows: three
// chunks), for one-column and mixed-type composite keys, with outcomes and reasons; and a control
// schema from before the views (plain tables with rows) is renamed, its rows still read through them.
import { Client } from 'pg';
import { ensureControlSchema } from '../activities/db/control-schema';
import { keyArray, writeManifest } from '../activities/publish/published-keys';
import type { ResolvedTable } from '../activities/db/resolve';
import { StagingNames } from '../activities/db/staging';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';

const name = uniqueName('cutover_pubkeys');
let url: string;
let db: Client;
const names = new StagingNames('stage_x', 'cutover.manifest_rows');

/** Just what writeManifest reads of a resolved table. */
const table = (index: number, tableName: string, ids: string, key: [string, string][], select: Record<string, unknown> = {}) =>
  ({
    index,
    name: tableName,
    key: key.map((k) => k[0]),
    columns: key.map(([n, type]) => ({ name: n, type })),
    spec: { ids, select },
  }) as unknown as ResolvedTable;

beforeAll(async () => {
  url = await createDb(
    name,
    `
    CREATE SCHEMA stage_x;
    -- a mapped one-column key: 25 000 rows, moved, merged and found parents mixed through the chunks
    CREATE TABLE stage_x.m0 (o0 bigint, n0 bigint, outcome text NOT NULL);
    INSERT INTO stage_x.m0 SELECT g, 1000000 + (g * 7919) % 25013, CASE WHEN g % 11 = 0 THEN 'merged' WHEN g % 13 = 0 THEN 'found' ELSE 'moved' END
      FROM generate_series(1, 25000) g;
    -- a mapped composite key of mixed types (bigint, text)
    CREATE TABLE stage_x.m1 (o0 bigint, o1 text, n0 bigint, n1 text, outcome text NOT NULL);
    INSERT INTO stage_x.m1 SELECT g, 'k' || g, g + 5, 'k' || g, 'moved' FROM generate_series(1, 12001) g;
    -- an ids: keep table: staged data only
    CREATE TABLE stage_x.t2_items (id bigint, sku text);
    INSERT INTO stage_x.t2_items SELECT g, 's' FROM generate_series(1, 20500) g;
  `,
  );
  db = new Client({ connectionString: url });
  await db.connect();
  await ensureControlSchema(db);
});

afterAll(async () => {
  await db?.end();
  await dropDb(name);
});

test('the id map and manifest views give back every pair publish wrote, across chunks and key shapes', async () => {
  const one = table(0, 'public.orders', 'new', [['id', 'bigint']]);
  const composite = table(
    1,
    'public.lines',
    'new',
    [
      ['order_id', 'bigint'],
      ['code', 'text'],
    ],
    { referenced: true },
  );
  const keep = table(2, 'public.items', 'keep', [['id', 'bigint']]);
  await db.query('BEGIN');
  const chunks = [
    await writeManifest(db, 'run-a', one, names),
    await writeManifest(db, 'run-a', composite, names),
    await writeManifest(db, 'run-a', keep, names),
  ];
  await db.query('COMMIT');
  // Several chunks per table (10 000 keys at most each), and at least one per outcome present.
  expect(chunks[0]).toBeGreaterThanOrEqual(5);
  expect(chunks[2]).toBe(3);
  const max = await rows<{ n: number }>(url, 'SELECT max(jsonb_array_length(old_keys))::int AS n FROM cutover.published_keys');
  expect(max[0].n).toBeLessThanOrEqual(10000);

  // Pair by pair, against the map itself (our own SQL): nothing lost, nothing shifted between arrays.
  const diff = (t: string, m: string, cols: string) =>
    rows(
      url,
      `
    (SELECT old_key, new_key, outcome FROM cutover.id_map WHERE run_key = 'run-a' AND table_name = '${t}'
      EXCEPT ALL SELECT ${cols}, outcome FROM ${m})
    UNION ALL
    (SELECT ${cols}, outcome FROM ${m} EXCEPT ALL
      SELECT old_key, new_key, outcome FROM cutover.id_map WHERE run_key = 'run-a' AND table_name = '${t}')`,
    );
  expect(await diff('public.orders', 'stage_x.m0', 'jsonb_build_array(o0), jsonb_build_array(n0)')).toEqual([]);
  expect(await diff('public.lines', 'stage_x.m1', 'jsonb_build_array(o0, o1), jsonb_build_array(n0, n1)')).toEqual([]);
  const count = async (sql: string) => Number((await rows<{ n: string }>(url, sql))[0].n);
  expect(await count("SELECT count(*) AS n FROM cutover.id_map WHERE table_name = 'public.orders'")).toBe(25000);
  expect(await count("SELECT count(*) AS n FROM cutover.id_map WHERE table_name = 'public.items'")).toBe(0); // keep: no id map

  // The manifest: moved and merged rows by their Pilot key, never the found parents; keep tables' keys.
  const manifest = await rows<{ t: string; outcome: string; reason: string | null; n: string }>(
    url,
    "SELECT table_name AS t, outcome, reason, count(*)::text AS n FROM cutover.manifest WHERE run_key = 'run-a' GROUP BY 1, 2, 3 ORDER BY 1, 2",
  );
  const own = await rows<{ outcome: string; n: string }>(
    url,
    "SELECT outcome, count(*)::text AS n FROM stage_x.m0 WHERE outcome <> 'found' GROUP BY 1 ORDER BY 1",
  );
  expect(manifest).toEqual([
    { t: 'public.items', outcome: 'moved', reason: null, n: '20500' },
    { t: 'public.lines', outcome: 'moved', reason: 'referenced', n: '12001' },
    ...own.map((o) => ({ t: 'public.orders', outcome: o.outcome, reason: null, n: o.n })),
  ]);
  expect(
    await rows(url, "SELECT outcome FROM cutover.manifest WHERE table_name = 'public.lines' AND key = '[77, \"k77\"]'::jsonb"),
  ).toEqual([{ outcome: 'moved' }]);
  expect(await rows(url, "SELECT key FROM cutover.manifest WHERE table_name = 'public.items' AND key = '[20500]'::jsonb")).toEqual([
    { key: [20500] },
  ]);
});

test('a key of one type becomes a typed array, a mixed key an array of JSON values', () => {
  expect(keyArray(['m.o0', 'm.o1'], ['bigint', 'bigint'])).toBe('ARRAY[m.o0, m.o1]');
  expect(keyArray(['m.o0', 'm.o1'], ['bigint', 'text'])).toBe('ARRAY[to_jsonb(m.o0), to_jsonb(m.o1)]');
});

test('a control schema from before the views keeps its rows, read through the views', async () => {
  const old = uniqueName('cutover_pubkeys_old');
  const oldUrl = await createDb(
    old,
    `
    CREATE SCHEMA cutover;
    CREATE TABLE cutover.manifest (run_key text NOT NULL, table_name text NOT NULL, key jsonb NOT NULL, outcome text NOT NULL, reason text);
    CREATE INDEX manifest_run ON cutover.manifest (run_key, table_name);
    CREATE TABLE cutover.id_map (run_key text NOT NULL, table_name text NOT NULL, old_key jsonb NOT NULL, new_key jsonb NOT NULL, outcome text NOT NULL);
    CREATE INDEX id_map_run ON cutover.id_map (run_key, table_name);
    INSERT INTO cutover.manifest VALUES ('old-run', 'public.users', '[1]', 'moved', NULL), ('old-run', 'public.users', '[2]', 'left-behind', 'test-account');
    INSERT INTO cutover.id_map VALUES ('old-run', 'public.users', '[1]', '[501]', 'moved');
  `,
  );
  const c = new Client({ connectionString: oldUrl });
  await c.connect();
  try {
    await ensureControlSchema(c);
    await ensureControlSchema(c); // twice: the second finds the views and changes nothing
    const kinds = await rows<{ relname: string; relkind: string }>(
      oldUrl,
      "SELECT relname, relkind::text FROM pg_class WHERE relnamespace = 'cutover'::regnamespace AND relname IN ('manifest', 'id_map', 'manifest_rows', 'id_map_rows') ORDER BY 1",
    );
    expect(kinds).toEqual([
      { relname: 'id_map', relkind: 'v' },
      { relname: 'id_map_rows', relkind: 'r' },
      { relname: 'manifest', relkind: 'v' },
      { relname: 'manifest_rows', relkind: 'r' },
    ]);
    expect(await rows(oldUrl, "SELECT key, outcome, reason FROM cutover.manifest WHERE run_key = 'old-run' ORDER BY key")).toEqual([
      { key: [1], outcome: 'moved', reason: null },
      { key: [2], outcome: 'left-behind', reason: 'test-account' },
    ]);
    expect(await rows(oldUrl, "SELECT old_key, new_key FROM cutover.id_map WHERE run_key = 'old-run'")).toEqual([
      { old_key: [1], new_key: [501] },
    ]);
  } finally {
    await c.end();
    await dropDb(old);
  }
});
