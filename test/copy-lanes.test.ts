// parallelism.lanes, model-checked on real PostgreSQL: the selected rows copied with 1, 2 and 4 lanes
// (a big table split into ctid block ranges on connections sharing one exported snapshot) are
// exactly the same multiset — a one-column key with holes and rows updated after the snapshot (new
// versions elsewhere in the table, invisible to it), a composite key (text, uuid) following it, and
// a tiny table that stays one part — and exactly what the Pilot's own SQL selects in that snapshot.
// Judged by the test's own SQL: EXCEPT ALL both ways between the stagings, counts and a content sum
// against the Pilot read in the same snapshot.
import { Client } from 'pg';
import { openContext, type Context } from '../activities/db/context';
import { copyInLanes, laneCount, workItems } from '../activities/db/copy-lanes';
import { createStagingTables, type CopyPlan, type Lane } from '../activities/db/stage-copy';
import { runNames } from '../activities/db/staging';
import { Selection } from '../activities/db/selection';
import { joinSnapshot } from '../activities/db/snapshot-holder';
import { cutBlocks, partCondition } from '../activities/db/table-parts';
import { validatePlan } from '../plan/validate';
import { parallelismOf } from '../plan/parallelism';
import { createDb, dropDb, rows, uniqueName, withDb } from './helpers/pg';

const SCHEMA = `
CREATE TABLE big (id bigint PRIMARY KEY, grp int NOT NULL, payload text NOT NULL);
CREATE TABLE pairs (code text NOT NULL, token uuid NOT NULL, big_id bigint NOT NULL REFERENCES big, v int, PRIMARY KEY (code, token));
CREATE TABLE tiny (k text PRIMARY KEY, note text);
`;
const PILOT = `
INSERT INTO big SELECT g, g % 5, repeat(md5(g::text), 3) FROM generate_series(1, 40000) g;
DELETE FROM big WHERE id % 97 = 0; -- holes in the blocks
INSERT INTO pairs SELECT 'c' || (g % 50), md5(g::text)::uuid, 1 + (g * 7) % 39999, g FROM generate_series(1, 30000) g
  WHERE (1 + (g * 7) % 39999) % 97 <> 0;
INSERT INTO tiny VALUES ('a', 'one'), ('b', NULL), ('c', 'three');
ANALYZE big; ANALYZE pairs;
`;

const pilotName = uniqueName('cutover_lanes_pilot');
const prodName = uniqueName('cutover_lanes_prod');
let pilot: string;
let prod: string;
let ctx: Context;

const plan = (lanes: number) =>
  validatePlan({
    version: 1,
    id: 'lanes-model',
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['bob'], required: 1 },
    parallelism: { tables: 2, lanes },
    tables: [
      { table: 'big', select: { where: [{ column: 'grp', op: 'ne', value: 3 }] } },
      { table: 'pairs', select: { followMoved: ['big_id'] } }, // a semi-join over big's selection, in every part
      { table: 'tiny', select: { all: true } },
    ],
  });

/** Each table's rows as text, one row per line, in the order cutover's columns have (what EXCEPT compares). */
const TABLES = [
  { name: 'big', index: 0, pilotSql: 'SELECT id, grp, payload FROM big WHERE grp <> 3' },
  { name: 'pairs', index: 1, pilotSql: 'SELECT code, token, big_id, v FROM pairs WHERE big_id IN (SELECT id FROM big WHERE grp <> 3)' },
  { name: 'tiny', index: 2, pilotSql: 'SELECT k, note FROM tiny' },
];
const stagedName = (lanes: number, t: { name: string; index: number }) => runNames(`lanes${lanes}`).data(t.index, `public.${t.name}`);
/** Count and an order-free content sum of a row set (sum of each row's text hash): the same on both servers for the same rows. */
const digestSql = (from: string) => `SELECT count(*)::int AS n, coalesce(sum(hashtext(x::text)::numeric), 0)::text AS s FROM (${from}) x`;

beforeAll(async () => {
  pilot = await createDb(pilotName, SCHEMA + PILOT);
  prod = await createDb(prodName, SCHEMA);
  process.env.CUTOVER_DB_PILOT = pilot;
  process.env.CUTOVER_DB_PRODUCTION = prod;
  // Parts from 16 blocks on, so these tables (a few hundred blocks) split into as many parts as lanes.
  process.env.CUTOVER_TEST_SPLIT_MIN_BLOCKS = '16';
  ctx = await openContext(plan(1));
}, 120000);

afterAll(async () => {
  delete process.env.CUTOVER_TEST_SPLIT_MIN_BLOCKS;
  await ctx?.close();
  await dropDb(pilotName);
  await dropDb(prodName);
});

test('block ranges: the outer ends open, the cuts shared, integers only in the condition', () => {
  expect(cutBlocks(10, 3)).toEqual([
    { i: 0, of: 3, lo: null, hi: 3 },
    { i: 1, of: 3, lo: 3, hi: 6 },
    { i: 2, of: 3, lo: 6, hi: null },
  ]);
  expect(partCondition('t0', { i: 1, of: 3, lo: 3, hi: 6 })).toBe("t0.ctid >= '(3,0)'::tid AND t0.ctid < '(6,0)'::tid");
  expect(partCondition('t0', { i: 0, of: 1, lo: null, hi: null })).toBe('TRUE');
  expect(() => partCondition('t0', { i: 0, of: 2, lo: null, hi: 1.5 })).toThrow('not a block number');
});

test("a middle part reads only its blocks: PostgreSQL plans a TID Range Scan on the table's own alias", async () => {
  const big = ctx.resolved.tables.find((t) => t.name === 'public.big')!;
  const sel = new Selection(ctx.resolved);
  const sql = sel.rowsSql(big, undefined, (a) => partCondition(a, { i: 1, of: 3, lo: 100, hi: 200 }));
  const explained = await withDb(pilot, async (c) => {
    await c.query('BEGIN');
    await sel.apply(c); // the plan's bound values (grp <> 3)
    return (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
  });
  expect(explained).toContain('Tid Range Scan on big');
});

test('1, 2 and 4 lanes stage exactly the same rows, which are exactly what the Pilot selects in the snapshot', async () => {
  const src = new Client({ connectionString: pilot });
  const writer = new Client({ connectionString: pilot });
  await src.connect();
  await writer.connect();
  const opened: Client[] = [];
  try {
    // The snapshot every lane of every run joins, exported before the Pilot changes under it.
    await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await src.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0].s;
    const expected: { n: number; s: string }[] = [];
    for (const t of TABLES) expected.push((await src.query<{ n: number; s: string }>(digestSql(t.pilotSql))).rows[0]);
    // After the snapshot: rows updated (new versions in other blocks), deleted, inserted (the table grows).
    await writer.query("UPDATE big SET payload = 'changed' WHERE id % 7 = 0");
    await writer.query('DELETE FROM big WHERE id % 11 = 0 AND id NOT IN (SELECT big_id FROM pairs)');
    await writer.query("INSERT INTO big SELECT g, 1, 'late' FROM generate_series(50001, 60000) g");

    for (const lanes of [1, 2, 4]) {
      const names = runNames(`lanes${lanes}`);
      const copyPlan: CopyPlan = { resolved: ctx.resolved, names, temp: false, columnsFor: (t) => t.columns };
      await ctx.target.query(`DROP SCHEMA IF EXISTS ${names.schema} CASCADE; CREATE SCHEMA ${names.schema}`);
      await createStagingTables(ctx.target, copyPlan);
      const first = new Client({ connectionString: pilot });
      await first.connect();
      opened.push(first);
      await joinSnapshot(first, snapshot);
      const par = parallelismOf(plan(lanes)); // {tables: 2, lanes}
      const items = await workItems(first, ctx.resolved.tables, par);
      const partsOf = (name: string) => items.filter((w) => w.table.name === name).length;
      // The big tables split into `lanes` parts; the tiny one is one part whatever the lanes.
      expect([partsOf('public.big'), partsOf('public.pairs'), partsOf('public.tiny')]).toEqual([lanes, lanes, 1]);
      const lanesList: Lane[] = [{ src: first, tgt: ctx.target }];
      expect(laneCount(items, par)).toBe(Math.min(2 * lanes, items.length));
      for (let i = 1; i < laneCount(items, par); i++) {
        const s = new Client({ connectionString: pilot });
        const t = new Client({ connectionString: prod });
        await s.connect();
        await t.connect();
        opened.push(s, t);
        await joinSnapshot(s, snapshot);
        lanesList.push({ src: s, tgt: t });
      }
      // Progress adds up per table: the last figure told is the table's rows, told done once.
      const told = new Map<string, number>();
      const done = new Map<string, number>();
      const copied = await copyInLanes(lanesList, copyPlan, items, {
        rows: (t, n) => void told.set(t.name, Math.max(told.get(t.name) ?? 0, n)),
        done: (t, n) => {
          expect(done.has(t.name)).toBe(false);
          done.set(t.name, n);
        },
      });
      for (const [i, t] of TABLES.entries()) {
        const staged = (await rows<{ n: number; s: string }>(prod, digestSql(`SELECT * FROM ${stagedName(lanes, t)}`)))[0];
        expect({ lanes, table: t.name, ...staged }).toEqual({ lanes, table: t.name, ...expected[i] });
        expect(copied.get(`public.${t.name}`)).toBe(expected[i].n);
        expect(done.get(`public.${t.name}`)).toBe(expected[i].n);
        expect(told.get(`public.${t.name}`)).toBe(expected[i].n);
      }
      await Promise.all(lanesList.map((l) => l.src.query('ROLLBACK')));
    }
    // The stagings against each other, row by row, duplicates counted (EXCEPT ALL both ways).
    for (const lanes of [2, 4])
      for (const t of TABLES) {
        const a = stagedName(1, t);
        const b = stagedName(lanes, t);
        const diff = await rows(
          prod,
          `(SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b}) UNION ALL (SELECT * FROM ${b} EXCEPT ALL SELECT * FROM ${a})`,
        );
        expect({ lanes, table: t.name, diff }).toEqual({ lanes, table: t.name, diff: [] });
      }
    // The changes after the snapshot are nowhere in staging.
    expect(await rows(prod, `SELECT id FROM ${stagedName(4, TABLES[0])} WHERE payload IN ('changed', 'late') LIMIT 1`)).toEqual([]);
  } finally {
    await src.query('ROLLBACK').catch(() => undefined);
    await Promise.allSettled([src.end(), writer.end(), ...opened.map((c) => c.end())]);
  }
}, 180000);
