// The data path on real PostgreSQL through the real workflow: selection, cleanup with every reason,
// id remapping (new / match / keep), atomic publish, exact reconciliation, the dry run's truth,
// column types round-tripping, and a stage attempt that dies mid-table.
import { useHarness } from './helpers/harness';
import { runToCompletion as runWhole } from './helpers/outcome';
import { rows } from './helpers/pg';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, shopPlan } from './helpers/shop';

const h = useHarness('cutover_dp', SHOP_SCHEMA + SHOP_PILOT);
const freshProduction = () => h.production(SHOP_SCHEMA + SHOP_PRODUCTION);

const runToCompletion = (plan: Record<string, unknown>) => runWhole(h, plan);

const one = async (url: string, sql: string) => (await rows<{ v: string }>(url, sql))[0]?.v;
const TABLES = ['country', 'address', 'customer', 'rental', 'staff', 'kinds', 'measurement', 'dept', 'employee'];
const dump = async (url: string) =>
  Object.fromEntries(
    await Promise.all(TABLES.map(async (t) => [t, await one(url, `SELECT string_agg(x::text, E'\\n' ORDER BY x::text) AS v FROM ${t} x`)])),
  );

test('every reason, every id strategy: production holds exactly the right rows, remapped', async () => {
  const prod = await freshProduction();
  const { result, report } = await runToCompletion(shopPlan('dp-full'));
  expect(result.status).toBe('completed');

  // Customers: 1 and 6–10 move (2 test, 3 no consent, 4 and 5 erasure; 11–12 other store), with new ids.
  expect(await one(prod, "SELECT string_agg(email, ',' ORDER BY email) AS v FROM customer WHERE store_id = 1")).toBe(
    'c10@example.com,c1@example.com,c7@example.com,c8@example.com,c9@example.com,mixed6@example.com',
  );
  expect(await one(prod, 'SELECT min(customer_id)::text AS v FROM customer WHERE store_id = 1')).toBe('4');
  // Foreign keys rewritten: each moved rental hangs off the same customer (by email) as in Pilot.
  const rentalsBy = `SELECT string_agg(lower(c.email) || ':' || r.amount, ',' ORDER BY lower(c.email), r.amount) AS v
                       FROM rental r JOIN customer c USING (customer_id) WHERE c.store_id = 1`;
  expect(await one(prod, rentalsBy)).toBe(
    await one(h.pilot, rentalsBy.replace('WHERE c.store_id = 1', 'WHERE c.customer_id IN (1, 6, 7, 8, 9, 10)')),
  );
  // Countries matched by code (US, DE reuse 10, 11), France inserted with a new id; customers point at them.
  expect(await one(prod, "SELECT string_agg(code || '=' || country_id, ',' ORDER BY code) AS v FROM country")).toBe(
    'DE=11,FR=13,JP=12,US=10',
  );
  const countryOf =
    "SELECT string_agg(lower(c.email) || '@' || k.code, ',' ORDER BY lower(c.email)) AS v FROM customer c JOIN country k USING (country_id)";
  expect(await one(prod, `${countryOf} WHERE c.store_id = 1`)).toBe(
    await one(h.pilot, `${countryOf} WHERE c.customer_id IN (1, 6, 7, 8, 9, 10)`),
  );
  // Addresses: only those of moved customers, and each customer keeps its own line.
  const addressOf =
    "SELECT string_agg(lower(c.email) || '#' || a.line, ',' ORDER BY lower(c.email)) AS v FROM customer c JOIN address a USING (address_id)";
  expect(await one(prod, `${addressOf} WHERE c.store_id = 1`)).toBe(
    await one(h.pilot, `${addressOf} WHERE c.customer_id IN (1, 6, 7, 8, 9, 10)`),
  );
  expect(await one(prod, 'SELECT count(*)::text AS v FROM address')).toBe('8');
  // Self-reference kept whole; pre-existing rows untouched; sequences ahead of published keys.
  expect(
    await one(prod, "SELECT string_agg(staff_id || '>' || coalesce(manager_id::text, '-'), ',' ORDER BY staff_id) AS v FROM staff"),
  ).toBe('1>-,2>1,3>2');
  expect(await one(prod, "SELECT string_agg(email, ',' ORDER BY customer_id) AS v FROM customer WHERE store_id = 9")).toBe(
    'p1@prod.example,p2@prod.example,p3@prod.example',
  );
  expect(Number(await one(prod, "SELECT nextval('customer_customer_id_seq')::text AS v"))).toBeGreaterThan(9);
  expect(Number(await one(prod, "SELECT nextval('rental_rental_id_seq')::text AS v"))).toBeGreaterThan(
    Number(await one(prod, 'SELECT max(rental_id)::text AS v FROM rental')),
  );

  // The dept ⇄ employee cycle: both remapped, heads set after both tables were in.
  const heads =
    "SELECT string_agg(d.name || ':' || h.name || ':' || (SELECT string_agg(e.name, '+' ORDER BY e.name) FROM employee e WHERE e.dept_id = d.dept_id), ',' ORDER BY d.name) AS v FROM dept d JOIN employee h ON h.emp_id = d.head_id";
  expect(await one(prod, `${heads} WHERE d.name <> 'Prod dept'`)).toBe(await one(h.pilot, heads));
  expect(await one(prod, "SELECT string_agg(dept_id::text, ',' ORDER BY dept_id) AS v FROM dept")).toBe('1,2,3');

  // Awkward types round-trip exactly; the generated column is recomputed, identity values kept.
  const kinds = "SELECT string_agg(k::text, E'\\n' ORDER BY id) AS v FROM kinds k";
  expect(await one(prod, kinds)).toBe(await one(h.pilot, kinds));
  expect(await one(prod, "SELECT string_agg(twice::text, ',' ORDER BY id) AS v FROM kinds")).toBe('6,2');
  const meas = "SELECT string_agg(m::text || '/' || tableoid::regclass::text, ',' ORDER BY city_id, logdate) AS v FROM measurement m";
  expect(await one(prod, meas)).toBe(await one(h.pilot, meas));

  // Manifest: exact reconciliation by reason, written by the run and checked here by our own SQL.
  const manifest = await rows<{ t: string; o: string; r: string | null; n: string }>(
    prod,
    'SELECT table_name AS t, outcome AS o, reason AS r, count(*)::text AS n FROM cutover.manifest WHERE run_key = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3',
    [result.runKey],
  );
  const m = Object.fromEntries(manifest.map((x) => [`${x.t}|${x.o}|${x.r ?? ''}`, Number(x.n)]));
  expect(m).toEqual({
    'public.address|left-behind|no-longer-referenced': 4,
    'public.address|moved|referenced': 6,
    'public.country|merged|': 2,
    'public.dept|moved|': 2,
    'public.employee|moved|': 3,
    'public.country|moved|': 1,
    'public.customer|left-behind|erasure-request': 2,
    'public.customer|left-behind|no-consent': 1,
    'public.customer|left-behind|test-account': 1,
    'public.customer|moved|': 6,
    'public.kinds|moved|': 3,
    'public.measurement|moved|': 3,
    'public.rental|left-behind|parent-left-behind:public.customer': 8,
    'public.rental|moved|': 12,
    'public.staff|moved|': 3,
  });
  expect(
    await one(prod, `SELECT count(*)::text AS v FROM cutover.id_map WHERE run_key = '${result.runKey}' AND table_name = 'public.customer'`),
  ).toBe('6');

  // The dry run told the truth: its counts per reason are the run's.
  for (const v of report.validation!.tables) {
    const dry = report.dryRun!.tables.find((t) => t.table === v.table)!;
    expect({ table: v.table, inScope: dry.inScope, moved: dry.toMove, merged: dry.merged, left: dry.leftBehind }).toEqual({
      table: v.table,
      inScope: v.inScope,
      moved: v.moved,
      merged: v.merged,
      left: v.leftBehindByReason,
    });
  }
  expect(report.validation!.ok).toBe(true);
}, 240000);

/** Production after an undisturbed run (parallelism 1), computed once for the fault tests. */
let undisturbed: Promise<Record<string, string>> | undefined;
function undisturbedDump() {
  undisturbed ??= (async () => {
    const prod = await freshProduction();
    expect((await runToCompletion(shopPlan('dp-calm', { parallelism: 1 }))).result.status).toBe('completed');
    return dump(prod);
  })();
  return undisturbed;
}

/** A run whose first stage attempt dies as `fault` says; returns its report and production's contents. */
async function disturbedRun(id: string, fault: string) {
  const expected = await undisturbedDump();
  const prod = await freshProduction();
  process.env.CUTOVER_TEST_FAIL_STAGE_AFTER = fault;
  try {
    const { result, report } = await runToCompletion(shopPlan(id, { parallelism: 1 }));
    expect(result.status).toBe('completed');
    expect(report.stage!.attempt).toBe(2);
    expect(await dump(prod)).toEqual(expected);
    return { result, report };
  } finally {
    delete process.env.CUTOVER_TEST_FAIL_STAGE_AFTER;
  }
}

test('a stage attempt that dies mid-table, then retries, publishes exactly what an undisturbed run does', async () => {
  const { report } = await disturbedRun('dp-fault', 'public.rental:5');
  expect(report.stage!.restaged).toBeNull();
  // Tables staged before the failure were kept (same snapshot), the failed one restaged from zero.
  expect(report.stage!.resumedTables).toEqual(expect.arrayContaining(['public.country', 'public.customer']));
  expect(report.stage!.resumedTables).not.toContain('public.rental');
}, 240000);

test('a retry that cannot rejoin the snapshot restages everything from a new one, and says so', async () => {
  const { result, report } = await disturbedRun('dp-lost', 'public.rental:5:lose-snapshot');
  expect(report.stage!.resumedTables).toEqual([]);
  expect(report.stage!.restaged).toContain('restaged every table from a new snapshot');
  expect(result.steps.find((s) => s.step === 'stage' && s.outcome === 'completed')?.detail).toContain('new snapshot');
}, 240000);
