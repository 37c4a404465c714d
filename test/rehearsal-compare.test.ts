// The rehearsal's counts against the approved dry run's (common/rehearsal-compare.ts), without
// services: equal counts say so; each kind of difference is explained by what can cause it (the
// Pilot's selection, a register on either side, Production's matched rows), and a difference no
// change explains is called out as the dry run's prediction being wrong.
import { compareWithDryRun, type DryRunCounts } from '../common/rehearsal-compare';
import type { RehearsalTable } from '../common/results';
import { validatePlan } from '../plan/validate';

const plan = validatePlan({
  version: 1,
  id: 'rc-unit',
  strategy: 'selective',
  source: 'pilot',
  target: 'production',
  approvals: { approvers: ['bob'], required: 1 },
  tables: [
    { table: 'customer', select: { all: true }, ids: 'new' },
    { table: 'orders', select: { follow: ['customer_id'] }, ids: 'new' },
  ],
  subjects: { table: 'customer', key: 'customer_id' },
  erasure: { registers: [{ db: 'target', table: 'erasure_request', subject: 'customer_id' }] },
});
const dry = (table: string, inScope: number, toMove: number, merged: number, leftBehind: Record<string, number>): DryRunCounts => ({
  table,
  inScope,
  toMove,
  merged,
  leftBehind,
});
const reh = (
  table: string,
  inScope: number,
  moved: number,
  merged: number,
  leftBehindByReason: Record<string, number>,
): RehearsalTable => ({
  table,
  inScope,
  moved,
  merged,
  leftBehind: Object.values(leftBehindByReason).reduce((a, b) => a + b, 0),
  leftBehindByReason,
});
const DRY = [
  dry('public.customer', 6, 5, 0, { 'erasure-request': 1 }),
  dry('public.orders', 12, 10, 0, { 'parent-left-behind:public.customer': 2 }),
];

test('equal counts (reasons in any order, zero counts ignored) compare equal', () => {
  const c = compareWithDryRun(plan, DRY, [
    reh('public.orders', 12, 10, 0, { 'parent-left-behind:public.customer': 2 }),
    reh('public.customer', 6, 5, 0, { 'erasure-request': 1, 'no-consent': 0 }),
  ]);
  expect(c).toMatchObject({ equal: true, differences: [] });
  expect(c.tables.map((t) => [t.table, t.equal])).toEqual([
    ['public.customer', true],
    ['public.orders', true],
  ]);
});

test("a request added to Production's register since the dry run is named, with the cascade it caused", () => {
  const c = compareWithDryRun(plan, DRY, [
    reh('public.customer', 6, 4, 0, { 'erasure-request': 2 }),
    reh('public.orders', 12, 8, 0, { 'parent-left-behind:public.customer': 4 }),
  ]);
  expect(c.equal).toBe(false);
  expect(c.differences).toHaveLength(2);
  expect(c.differences[0]).toMatch(
    /^public\.customer: dry run in scope 6, moved 5, merged 0, left behind erasure-request 1; rehearsal in scope 6, moved 4, merged 0, left behind erasure-request 2\. Why: erasure requests changed since the dry run in Production's register\(s\) \(1 then, 2 at the rehearsal\)\.$/,
  );
  expect(c.differences[1]).toMatch(/rows left behind upstream changed, cascading here/);
});

test('the Pilot changed, Production matched other rows, and a difference nothing explains', () => {
  const pilot = compareWithDryRun(plan, DRY.slice(0, 1), [reh('public.customer', 7, 6, 0, { 'erasure-request': 1 })]);
  expect(pilot.tables[0].why).toMatch(/^the Pilot changed since the dry run \(rows its selection picks: 6 then, 7 at the rehearsal\)$/);
  const prod = compareWithDryRun(plan, DRY.slice(0, 1), [reh('public.customer', 6, 4, 1, { 'erasure-request': 1 })]);
  expect(prod.tables[0].why).toMatch(
    /^Production changed since the dry run: rows matched to existing Production rows \(merged\) 0 then, 1/,
  );
  const odd = compareWithDryRun(
    plan,
    [dry('public.customer', 6, 4, 0, { 'erasure-request': 1 })],
    [reh('public.customer', 6, 5, 0, { 'erasure-request': 1 })],
  );
  expect(odd.tables[0].why).toMatch(/no change of the Pilot, the registers or Production explains it/);
  const missing = compareWithDryRun(plan, DRY, [reh('public.customer', 6, 5, 0, { 'erasure-request': 1 })]);
  expect(missing.tables.find((t) => t.table === 'public.orders')).toMatchObject({
    equal: false,
    rehearsal: null,
    why: 'the rehearsal did not reach this table',
  });
});
