// Every `where` operator selects exactly the rows our own SQL says it should (NULLs included), with
// values bound, never spliced: a value full of SQL is just a value.
import { preflight } from '../activities/preflight';
import { validatePlan } from '../plan/validate';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';

const base = uniqueName('cutover_sel');
const SCHEMA = `CREATE TABLE item (id int PRIMARY KEY, n int, s text, d date, tags text[]);`;
const DATA = `INSERT INTO item SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 10 END,
  CASE WHEN g % 5 = 0 THEN NULL ELSE 'name-' || g END, date '2026-01-01' + g, ARRAY['t' || (g % 3)] FROM generate_series(1, 100) g;`;
let pilot: string;

beforeAll(async () => {
  pilot = await createDb(`${base}_pilot`, SCHEMA + DATA);
  process.env.CUTOVER_DB_PILOT = pilot;
  process.env.CUTOVER_DB_PRODUCTION = await createDb(`${base}_prod`, SCHEMA);
}, 60000);

afterAll(async () => {
  await dropDb(`${base}_pilot`);
  await dropDb(`${base}_prod`);
});

const CASES: [string, unknown, string][] = [
  ['eq', { column: 'n', op: 'eq', value: 3 }, 'n = 3'],
  ['ne keeps NULLs', { column: 'n', op: 'ne', value: 3 }, 'n IS DISTINCT FROM 3'],
  ['lt', { column: 'n', op: 'lt', value: 4 }, 'n < 4'],
  ['lte', { column: 'n', op: 'lte', value: 4 }, 'n <= 4'],
  ['gt on a date', { column: 'd', op: 'gt', value: '2026-03-01' }, "d > date '2026-03-01'"],
  ['gte', { column: 'n', op: 'gte', value: 8 }, 'n >= 8'],
  ['in', { column: 'n', op: 'in', value: [1, 2, 9] }, 'n IN (1, 2, 9)'],
  ['notIn keeps NULLs', { column: 'n', op: 'notIn', value: [1, 2, 9] }, 'n IS NULL OR n NOT IN (1, 2, 9)'],
  ['like', { column: 's', op: 'like', value: 'name-1%' }, "s LIKE 'name-1%'"],
  ['notLike keeps NULLs', { column: 's', op: 'notLike', value: 'name-1%' }, "s IS NULL OR s NOT LIKE 'name-1%'"],
  ['isNull', { column: 's', op: 'isNull' }, 's IS NULL'],
  ['notNull', { column: 's', op: 'notNull' }, 's IS NOT NULL'],
  ['a value full of SQL stays a value', { column: 's', op: 'eq', value: "x'; DROP TABLE item; --" }, 'false'],
  ['a value that looks like a setting name', { column: 's', op: 'in', value: ["cutover.p1')::text --", 'name-2'] }, "s = 'name-2'"],
];

test.each(CASES)('%s', async (_name, condition, sql) => {
  const plan = validatePlan({
    version: 1,
    id: 'sel-ops',
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['a', 'b'], required: 1 },
    tables: [{ table: 'item', select: { where: [condition] } }],
  });
  const report = await preflight({ plan });
  const [{ n }] = await rows<{ n: number }>(pilot, `SELECT count(*)::int AS n FROM item WHERE ${sql}`);
  expect(report.tables[0].inScope).toBe(n);
  expect((await rows<{ n: number }>(pilot, 'SELECT count(*)::int AS n FROM item'))[0].n).toBe(100);
});
