// The mapping's plan keys offline (no database): the forms of a column's source, the rules between
// keys, and expressions judged by PostgreSQL's own parser — every refused node named, what is
// allowed accepted, and the same issues from `cutover plan check` (loadPlan) with file and line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkPlanSchema } from '../plan/validate';
import { checkExpr, loadSqlParser, mappingSqlIssues } from '../plan/mapping-sql';
import { loadPlan } from '../client/commands/plan';
import { mapPlan } from './helpers/mapping';

beforeAll(() => loadSqlParser());

const issuesOf = (plan: Record<string, unknown>) => checkPlanSchema(plan).issues.map((i) => `${i.path}: ${i.message}`);
const withClients = (f: (t: Record<string, unknown>) => void) => mapPlan('map-plan', { clients: f });
const setColumn = (col: string, src: unknown) => withClients((t) => void ((t.columns as Record<string, unknown>)[col] = src));

test('the mapped plan validates, and a plan without mapping keys normalises (and hashes) as before', () => {
  expect(issuesOf(mapPlan('map-plan'))).toEqual([]);
  const plain = checkPlanSchema({ ...mapPlan('map-plan'), tables: [{ table: 'clients' }], testData: undefined }).plan!;
  expect(Object.keys(plain.tables[0]).sort()).toEqual(['ids', 'select', 'table']);
});

test('a column source is exactly one form; map needs from, default needs map', () => {
  expect(issuesOf(setColumn('status', { from: 'plan', expr: 'plan' }))).toEqual([
    'tables[0].columns.status: cannot combine from and expr; use exactly one of {from: pilot_column}, {value: constant}, {from: pilot_column, map: {…}, default?: value} or {expr: "SQL"}',
  ]);
  expect(issuesOf(setColumn('status', {}))).toEqual([expect.stringContaining('tables[0].columns.status: is empty; use exactly one of')]);
  expect(issuesOf(setColumn('tier', { value: 'free', map: { beta: 'free' } }))).toEqual([
    'tables[0].columns.tier.map: needs from (the Pilot column whose values it maps)',
  ]);
  expect(issuesOf(setColumn('tier', { from: 'plan', default: 'free' }))).toEqual([
    'tables[0].columns.tier.default: only allowed with map (the value of a Pilot value the map does not list)',
  ]);
  expect(issuesOf(setColumn('tier', { from: 'plan', map: {} }))).toEqual([
    'tables[0].columns.tier.map: must list at least one Pilot value',
  ]);
  expect(issuesOf(setColumn('tier', { from: 'plan', maps: { beta: 'free' } }))).toEqual([
    'tables[0].columns.tier.maps: unknown key "maps" (did you mean "map"?)',
  ]);
  expect(issuesOf(setColumn('tenant_id', { value: { id: 7 } }))).toEqual([expect.stringContaining('tables[0].columns.tenant_id.value:')]);
});

test('one Production table per Pilot table; a mapping only with strategy selective', () => {
  const twice = mapPlan('map-plan', { notes: (t) => void (t.into = 'public.customers') });
  expect(issuesOf(twice)).toEqual([
    'tables[1].into: tables[0] already goes into public.customers: one Production table takes one Pilot table',
  ]);
  const adopt = {
    ...mapPlan('map-plan'),
    strategy: 'adopt',
    adoptFrom: '2026-01-01',
    backup: { store: 'file:///tmp/x' },
    testData: undefined,
  };
  expect(issuesOf(adopt)).toEqual(
    expect.arrayContaining([
      'tables[0].into: only allowed when strategy is selective (strategy is adopt): nothing moves into another model',
      'tables[0].columns: only allowed when strategy is selective (strategy is adopt): nothing moves into another model',
      'tables[0].drop: only allowed when strategy is selective (strategy is adopt): nothing moves into another model',
    ]),
  );
});

test('expressions: what PostgreSQL parses as one scalar expression of the row, with allowed nodes only', () => {
  const ok: [string, string[]][] = [
    ["case when archived then 'SUSPENDED' else 'ACTIVE' end", ['archived']],
    ["coalesce(nullif(btrim(email), ''), lower(fullname) || '@unknown.example')", ['email', 'fullname']],
    ['round(amount * 100)::int', ['amount']],
    ['CAST(id AS bigint) + 1000', ['id']],
    ["plan::text IN ('beta', 'trial') AND NOT archived", ['plan', 'archived']],
    ["greatest(a, b) BETWEEN 1 AND 10 OR c IS NOT DISTINCT FROM d OR e ILIKE 'x%'", ['a', 'b', 'c', 'd', 'e']],
    ['substring(code from 1 for 3) || pg_catalog.upper(code)', ['code']],
    ['extract(year from born)', ['born']],
    ['42', []],
  ];
  for (const [expr, columns] of ok) expect([expr, checkExpr(expr)]).toEqual([expr, { problem: null, columns }]);
  const refused: [string, RegExp][] = [
    ['(select 1)', /^a subquery is not allowed/],
    ['exists (select 1 from clients)', /^a subquery is not allowed/],
    ['c.fullname', /^column c\.fullname names another table/],
    ['clients.*', /^a \* is not allowed/],
    ['now()', /^function now\(\) is not allowed in an expression \(not on the list of immutable built-ins/],
    ['random() * 10', /^function random\(\) is not allowed/],
    ['concat(a, b)', /^function concat\(\) is not allowed/],
    ['generate_series(1, 3)', /^function generate_series\(\) is not allowed/],
    ['count(*)', /^function count\(\) is used as an aggregate or window function/],
    ['sum(amount) over ()', /^function sum\(\) is used as an aggregate or window function/],
    ['public.my_fn(a)', /^function public\.my_fn\(\) is not allowed: only built-in functions/],
    ["pg_read_file('/etc/passwd')", /^function pg_read_file\(\) is not allowed/],
    ['$1', /^a parameter \(\$n\) is not allowed/],
    ['current_date', /^a time or session value/],
    ['current_user', /^a time or session value/],
    ['a OPERATOR(public.===) b', /^operator public\.=== is not allowed/],
    ['a::public.evil', /^a cast to public\.evil is not allowed/],
    ['ARRAY[a, b]', /^an array constructor is not allowed/],
    ['fullname), (email', /^must be one scalar expression/],
    ['1; DROP TABLE clients', /must be one scalar expression|is not a valid PostgreSQL expression/],
    ['fullname) FROM pg_shadow --', /^is not a valid PostgreSQL expression/],
    ['a +', /^is not a valid PostgreSQL expression/],
  ];
  for (const [expr, why] of refused) expect([expr, checkExpr(expr).problem]).toEqual([expr, expect.stringMatching(why)]);
});

test('plan check refuses a bad expression offline, with its path and line; the issues name the node', async () => {
  const bad = setColumn('status', { expr: '(select 1)' });
  expect(mappingSqlIssues(checkPlanSchema(bad).plan!)).toEqual([
    { path: 'tables[0].columns.status.expr', message: expect.stringContaining('a subquery is not allowed') },
  ]);
  const dir = mkdtempSync(path.join(tmpdir(), 'cutover-mapplan-'));
  const file = path.join(dir, 'plan.json');
  writeFileSync(file, JSON.stringify(bad, null, 2));
  const e = await loadPlan(file).then(
    () => null,
    (x: Error & { lines?: string[] }) => x,
  );
  expect(e?.lines?.[0]).toMatch(/plan\.json:\d+: tables\[0\]\.columns\.status\.expr: a subquery is not allowed in an expression/);
});
