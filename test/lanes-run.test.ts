// A whole run with parallelism {tables: 2, lanes: 3} through the real workflow: the dry run and
// stage's copy (forced here) split the big rental table into block ranges on connections sharing
// one snapshot, and Production ends up holding exactly what a run with the plain number leaves
// (every table compared as text, row by row). Small tables and the partitioned one stay whole.
// Validate takes rental's checksums by block range of its staging: the sums equal the whole's.
import * as copyLanes from '../activities/db/copy-lanes';
import * as tableParts from '../activities/db/table-parts';
import { useHarness } from './helpers/harness';
import { runToCompletion as runWhole } from './helpers/outcome';
import { rows } from './helpers/pg';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, shopPlan } from './helpers/shop';

// 6 000 more rentals (about 40 blocks), so rental is worth splitting at the test's 4 blocks per part.
const MORE_RENTALS = `INSERT INTO rental (customer_id, amount) SELECT 1 + (g % 12), (g % 500) * 0.75 FROM generate_series(1, 6000) g;
ANALYZE rental;`;
const h = useHarness('cutover_lanes_run', SHOP_SCHEMA + SHOP_PILOT + MORE_RENTALS);

const TABLES = ['country', 'address', 'customer', 'rental', 'staff', 'kinds', 'measurement', 'dept', 'employee'];
const dump = async (url: string) => {
  const out: Record<string, string[]> = {};
  for (const t of TABLES) out[t] = (await rows<{ v: string }>(url, `SELECT x::text AS v FROM ${t} x ORDER BY 1`)).map((r) => r.v);
  return out;
};

test('{tables: 2, lanes: 3} completes, splits rental in the dry run and in stage, and Production holds what the plain number leaves', async () => {
  const plainProd = await h.production(SHOP_SCHEMA + SHOP_PRODUCTION);
  const plain = await runWhole(h, shopPlan('lanes-plain', { parallelism: 2 }));
  expect(plain.result.status).toBe('completed');
  const expected = await dump(plainProd);
  expect(expected.rental.length).toBeGreaterThan(3000); // the moved rentals are most of the 6 000

  const lanesProd = await h.production(SHOP_SCHEMA + SHOP_PRODUCTION);
  // The parts planned in each copy (dry run, then stage), seen through the shared module.
  const planned: Record<string, number>[] = [];
  const workItems = copyLanes.workItems;
  const spy = jest.spyOn(copyLanes, 'workItems').mockImplementation(async (...args) => {
    const items = await workItems(...args);
    const parts: Record<string, number> = {};
    for (const w of items) parts[w.table.name] = (parts[w.table.name] ?? 0) + 1;
    planned.push(parts);
    return items;
  });
  // Validate's own split: the relations it plans block ranges of (its staging tables).
  const relationParts = tableParts.relationParts;
  const validateSplit: string[] = [];
  const partsSpy = jest.spyOn(tableParts, 'relationParts').mockImplementation(async (db, relations, ...rest) => {
    const parts = await relationParts(db, relations, ...rest);
    relations.forEach((rel, i) => parts[i].length > 1 && validateSplit.push(`${rel}: ${parts[i].length}`));
    return parts;
  });
  process.env.CUTOVER_TEST_SPLIT_MIN_BLOCKS = '4';
  process.env.CUTOVER_TEST_SLOW_TABLES = '0.01:stage'; // stage copies again instead of keeping the dry run's staging
  try {
    const laned = await runWhole(h, shopPlan('lanes-three', { parallelism: { tables: 2, lanes: 3 } }));
    expect(laned.result.status).toBe('completed');
    expect(laned.report.validation!.ok).toBe(true);
    expect(laned.report.stage!.dryRunStaging).toBeUndefined(); // copied, not kept
    // Validate took rental's checksums in 3 block ranges and added them up: the same checksums as the
    // plain run's, taken whole (the same rows, the same ids), table by table.
    expect(validateSplit).toEqual([expect.stringMatching(/^"cutover_stage_[a-z0-9]+"\."t\d+_rental": 3$/)]);
    const sums = (r: typeof plain.report) =>
      r.validation!.tables.map((v) => ({ table: v.table, staging: v.stagingChecksum, production: v.productionChecksum }));
    expect(sums(laned.report)).toEqual(sums(plain.report));
  } finally {
    spy.mockRestore();
    partsSpy.mockRestore();
    delete process.env.CUTOVER_TEST_SPLIT_MIN_BLOCKS;
    delete process.env.CUTOVER_TEST_SLOW_TABLES;
  }
  // Dry run and stage: rental in 3 parts, customer (one block) and measurement (partitioned) whole.
  expect(planned).toHaveLength(2);
  for (const parts of planned)
    expect(parts).toMatchObject({ 'public.rental': 3, 'public.customer': 1, 'public.measurement': 1, 'public.country': 1 });
  expect(await dump(lanesProd)).toEqual(expected);
}, 300000);
