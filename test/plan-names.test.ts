// Table names as PostgreSQL writes them: parsed into {schema, name}, never split on dots.
import { parseTableName, quoteIfNeeded, tableKey } from '../plan/names';
import { checkPlanSchema } from '../plan/validate';

test.each([
  ['customer', { schema: 'public', name: 'customer' }],
  ['public.customer', { schema: 'public', name: 'customer' }],
  ['Public.Customer', { schema: 'public', name: 'customer' }],
  ['"Sales.EU"."Order Items"', { schema: 'Sales.EU', name: 'Order Items' }],
  ['public."Kunde"', { schema: 'public', name: 'Kunde' }],
  ['"a""b".c', { schema: 'a"b', name: 'c' }],
  ['straße', { schema: 'public', name: 'straße' }],
])('parses %s', (input, expected) => {
  expect(parseTableName(input)).toEqual(expected);
});

test.each([
  ['a.b.c', /more than two parts/],
  ['"open', /unterminated/],
  ['public.', /ends where a name is expected/],
  ['my table', /unexpected character " "/],
  ['""', /must not be empty/],
  [`"${'x'.repeat(64)}"`, /longer than 63 bytes/],
])('refuses %s', (input, why) => {
  expect(parseTableName(input)).toMatch(why);
});

test('the canonical spelling round-trips and quotes only what needs it', () => {
  expect(tableKey({ schema: 'Sales.EU', name: 'Order Items' })).toBe('"Sales.EU"."Order Items"');
  expect(tableKey({ schema: 'public', name: 'customer' })).toBe('public.customer');
  expect(quoteIfNeeded('Kunde ID')).toBe('"Kunde ID"');
  for (const t of [
    { schema: 'a"b', name: 'c.d' },
    { schema: 'Sales.EU', name: 'Ünit €' },
  ])
    expect(parseTableName(tableKey(t))).toEqual(t);
});

test('the plan check takes quoted names and any column name, and refuses a bad table name by path', () => {
  const base = {
    version: 1,
    id: 'names',
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['a', 'b'], required: 1 },
    rehearsal: { mode: 'skip' },
  };
  const ok = checkPlanSchema({ ...base, tables: [{ table: '"Sales.EU"."Order Items"', key: ['Unit Price €', 'Kunde ID'] }] });
  expect(ok.issues).toEqual([]);
  const bad = checkPlanSchema({
    ...base,
    tables: [{ table: 'Sales.EU.Order Items' }, { table: 'public."Kunde"' }, { table: 'public.Kunde' }],
  });
  expect(bad.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
    expect.stringMatching(
      /^tables\[0\]\.table: must be a table name .*more than two parts|^tables\[0\]\.table: must be a table name .*unexpected character/,
    ),
  ]);
});
