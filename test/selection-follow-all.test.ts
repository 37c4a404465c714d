// Following a parent whose every row is in scope: with a validated foreign key the child's rows in
// scope are those with a parent (no semi-join over the parent, nor over its parents when their keys
// are NOT NULL and enforced); with a NOT VALID one the Pilot may hold orphans, which stay out as
// before. Counts checked against our own SQL on the Pilot.
import { preflight } from '../activities/preflight';
import { Selection } from '../activities/db/selection';
import { openContext } from '../activities/db/context';
import { validatePlan } from '../plan/validate';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';

const base = uniqueName('cutover_selall');
const SCHEMA = `CREATE TABLE p (id serial PRIMARY KEY, name text);
  CREATE TABLE c (id serial PRIMARY KEY, p_id int REFERENCES p);
  CREATE TABLE o (id serial PRIMARY KEY, p_id int);
  CREATE TABLE n (id serial PRIMARY KEY, p_id int NOT NULL REFERENCES p);
  CREATE TABLE gn (id serial PRIMARY KEY, n_id int REFERENCES n);
  CREATE TABLE gc (id serial PRIMARY KEY, c_id int REFERENCES c);`;
const PILOT = `INSERT INTO p SELECT g, 'p' || g FROM generate_series(1, 10) g;
  INSERT INTO c SELECT g, CASE WHEN g % 4 = 0 THEN NULL ELSE 1 + g % 10 END FROM generate_series(1, 40) g;
  INSERT INTO o SELECT g, CASE WHEN g % 4 = 0 THEN NULL WHEN g % 5 = 0 THEN 99 ELSE 1 + g % 10 END FROM generate_series(1, 40) g;
  ALTER TABLE o ADD CONSTRAINT o_p FOREIGN KEY (p_id) REFERENCES p NOT VALID;
  INSERT INTO n SELECT g, 1 + g % 10 FROM generate_series(1, 20) g;
  INSERT INTO gn SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE 1 + g % 20 END FROM generate_series(1, 30) g;
  INSERT INTO gc SELECT g, 1 + g % 40 FROM generate_series(1, 50) g;`;
let pilot: string;

beforeAll(async () => {
  pilot = await createDb(`${base}_pilot`, SCHEMA + PILOT);
  process.env.CUTOVER_DB_PILOT = pilot;
  process.env.CUTOVER_DB_PRODUCTION = await createDb(
    `${base}_prod`,
    SCHEMA + 'ALTER TABLE o ADD CONSTRAINT o_p FOREIGN KEY (p_id) REFERENCES p;',
  );
}, 60000);

afterAll(async () => {
  await dropDb(`${base}_pilot`);
  await dropDb(`${base}_prod`);
});

const plan = () =>
  validatePlan({
    version: 1,
    id: 'sel-all',
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['a', 'b'], required: 1 },
    tables: [
      { table: 'p', select: { all: true }, ids: 'new' },
      { table: 'c', select: { follow: ['p_id'] }, ids: 'new' },
      { table: 'o', select: { follow: ['p_id'] }, ids: 'new' },
      { table: 'n', select: { follow: ['p_id'] }, ids: 'new' },
      { table: 'gn', select: { follow: ['n_id'] }, ids: 'new' },
      { table: 'gc', select: { follow: ['c_id'] }, ids: 'new' },
    ],
  });

test('a validated FK into a wholly selected parent selects by the FK alone; a NOT VALID one, or a nullable key up the chain, still joins', async () => {
  const report = await preflight({ plan: plan() });
  const count = async (sql: string) => (await rows<{ n: number }>(pilot, `SELECT count(*)::int AS n FROM ${sql}`))[0].n;
  const inScope = (t: string) => report.tables.find((x) => x.table === `public.${t}`)!.inScope;
  expect(inScope('c')).toBe(await count('c WHERE p_id IS NOT NULL'));
  expect(inScope('o')).toBe(await count('o WHERE p_id IN (SELECT id FROM p)'));
  expect(await count('o WHERE p_id = 99')).toBeGreaterThan(0); // the orphans the NOT VALID FK lets in stay out
  // Two levels: every n row has its p (NOT NULL, enforced), so gn needs only its own FK; c.p_id may be
  // NULL, so gc still joins c (a c row without a parent is not in scope, nor are its children).
  expect(inScope('gn')).toBe(await count('gn WHERE n_id IS NOT NULL'));
  expect(inScope('gc')).toBe(await count('gc WHERE c_id IN (SELECT id FROM c WHERE p_id IS NOT NULL)'));
  expect(inScope('gc')).toBeLessThan(await count('gc'));

  // The SQL itself: no semi-join over p for c; one for o.
  const ctx = await openContext(plan());
  try {
    const sel = new Selection(ctx.resolved);
    const byName = (t: string) => ctx.resolved.tables.find((x) => x.name === `public.${t}`)!;
    expect(sel.rowsSql(byName('c'))).not.toContain('"public"."p"');
    expect(sel.rowsSql(byName('o'))).toContain('"public"."p"');
    expect(sel.rowsSql(byName('gn'))).not.toMatch(/"public"\."(p|n)"/);
    expect(sel.rowsSql(byName('gc'))).toContain('"public"."c"');
  } finally {
    await ctx.close();
  }
});
