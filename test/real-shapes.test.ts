// Real schemas as they are: awkward names end to end, a sequence attached only by DEFAULT, one
// sequence shared by two tables, FKs declared on every partition instead of the parent, ids: new on
// a composite key, and a composite FK rewritten through it — through the workflow, checked by SQL.
import { preflight } from '../activities/preflight';
import { validatePlan } from '../plan/validate';
import { useHarness } from './helpers/harness';
import { runToCompletion as runWhole } from './helpers/outcome';
import { rows } from './helpers/pg';
import { REAL_PILOT, REAL_PRODUCTION, REAL_SCHEMA, TWO_SEQUENCES, realPlan } from './helpers/realshape';

const h = useHarness('cutover_rs', REAL_SCHEMA + TWO_SEQUENCES + REAL_PILOT);
const one = async (url: string, sql: string) => (await rows<{ v: string }>(url, sql))[0]?.v;

const runToCompletion = (plan: Record<string, unknown>) => runWhole(h, plan);

// Who each row belongs to, by e-mail (ids differ between Pilot and Production by design).
const agg = (expr: string, from: string) => `SELECT string_agg(x, ',' ORDER BY x) AS v FROM (SELECT ${expr} AS x ${from}`;
const ITEMS = agg(
  `lower(k."E-Mail") || ':' || o.placed || ':' || i."Shipped On" || ':' || i."Unit Price €"`,
  `
  FROM "Sales.EU"."Order Items" i JOIN "Sales.EU"."Order" o USING ("Order ID") JOIN "Sales.EU"."Kunde" k USING ("Kunde ID")`,
);
const RETURNS = agg(
  `lower(k."E-Mail") || ':' || r.why || ':' || i."Unit Price €"`,
  `
  FROM "Sales.EU"."Returns" r JOIN "Sales.EU"."Order Items" i USING ("Shipped On", "Line ID")
  JOIN "Sales.EU"."Order" o USING ("Order ID") JOIN "Sales.EU"."Kunde" k USING ("Kunde ID")`,
);
const NOTES = agg(`lower(k."E-Mail") || ':' || n.body`, `FROM public.note n JOIN "Sales.EU"."Kunde" k USING ("Kunde ID")`);
const MOVED_PILOT = `WHERE k."Kunde ID" IN (1, 2)) t`;
const MOVED_PROD = `WHERE k."E-Mail" NOT LIKE '%@prod.example') t`;

test('awkward names, DEFAULT-only and shared sequences, partition FKs and a composite key move exactly', async () => {
  const prod = await h.production(REAL_SCHEMA + REAL_PRODUCTION);
  const before = await one(
    prod,
    `SELECT string_agg(x::text, ';' ORDER BY x::text) AS v FROM (
      SELECT k::text AS x FROM "Sales.EU"."Kunde" k UNION ALL SELECT o::text FROM "Sales.EU"."Order" o
      UNION ALL SELECT i::text FROM "Sales.EU"."Order Items" i UNION ALL SELECT r::text FROM "Sales.EU"."Returns" r) t`,
  );
  const { result, report } = await runToCompletion(realPlan('rs-full'));
  expect(result.status).toBe('completed');

  // Nord customers move (the test account stays behind), e-mails lower-cased, with new ids.
  expect(await one(prod, `SELECT string_agg("E-Mail" || '=' || "Kunde ID", ',' ORDER BY "Kunde ID") AS v FROM "Sales.EU"."Kunde"`)).toBe(
    'prod1@prod.example=1,prod2@prod.example=2,anna@nord.example=3,bernd@nord.example=4',
  );
  // Every line, return and note hangs off the same person as in the Pilot — through new ids, the
  // partition-level FK and the composite FK.
  expect(await one(prod, `${ITEMS} ${MOVED_PROD}`)).toBe(await one(h.pilot, `${ITEMS} ${MOVED_PILOT}`));
  expect(await one(prod, `${RETURNS} ${MOVED_PROD}`)).toBe(await one(h.pilot, `${RETURNS} ${MOVED_PILOT}`));
  expect(await one(prod, `${NOTES} ${MOVED_PROD}`)).toBe(await one(h.pilot, `${NOTES} ${MOVED_PILOT}`));
  expect(await one(prod, `${ITEMS} ${MOVED_PROD}`)).toBe(
    'anna@nord.example:2025-03-01:2025-03-02:10.00,anna@nord.example:2025-03-01:2025-03-02:11.50,anna@nord.example:2026-02-01:2026-02-03:20.00,bernd@nord.example:2025-07-07:2025-07-08:30.25',
  );
  // The composite key: its sequence column drew new values, the partition key was kept.
  expect(
    await one(prod, `SELECT string_agg("Line ID"::text, ',' ORDER BY "Line ID") AS v FROM "Sales.EU"."Order Items" WHERE "Line ID" > 2`),
  ).toBe('3,4,5,6');
  // Pre-existing rows untouched.
  expect(
    await one(
      prod,
      `SELECT string_agg(x::text, ';' ORDER BY x::text) AS v FROM (
      SELECT k::text AS x FROM "Sales.EU"."Kunde" k WHERE "Kunde ID" <= 2 UNION ALL SELECT o::text FROM "Sales.EU"."Order" o WHERE "Order ID" <= 2
      UNION ALL SELECT i::text FROM "Sales.EU"."Order Items" i WHERE "Line ID" <= 2 UNION ALL SELECT r::text FROM "Sales.EU"."Returns" r WHERE "Return ID" = 1) t`,
    ),
  ).toBe(before);
  // Sequences attached only by DEFAULT (and one shared by two tables) are ahead of every key.
  expect(await one(prod, `SELECT (nextval('"Sales.EU"."Kunde Nr"') > (SELECT max("Kunde ID") FROM "Sales.EU"."Kunde"))::text AS v`)).toBe(
    'true',
  );
  expect(
    await one(
      prod,
      `SELECT (nextval('public.shared_ids') > greatest((SELECT max("Order ID") FROM "Sales.EU"."Order"), (SELECT max(note_id) FROM public.note)))::text AS v`,
    ),
  ).toBe('true');
  expect(
    await one(prod, `SELECT (nextval('"Sales.EU"."Line Nr"') > (SELECT max("Line ID") FROM "Sales.EU"."Order Items"))::text AS v`),
  ).toBe('true');
  // Order and note drew from the one shared sequence: no id handed out twice.
  expect(
    await one(
      prod,
      `SELECT count(*)::text AS v FROM "Sales.EU"."Order" o JOIN public.note n ON n.note_id = o."Order ID" WHERE o."Order ID" > 3`,
    ),
  ).toBe('0');

  // The manifest speaks the canonical names; the cascade ran through the partition-level FK.
  const manifest = await rows<{ t: string; outcome: string; reason: string | null; n: number }>(
    prod,
    `SELECT table_name AS t, outcome, reason, count(*)::int AS n FROM cutover.manifest GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  expect(manifest).toEqual(
    expect.arrayContaining([
      { t: '"Sales.EU"."Order Items"', outcome: 'moved', reason: null, n: 4 },
      { t: '"Sales.EU"."Order Items"', outcome: 'left-behind', reason: 'parent-left-behind:"Sales.EU"."Order"', n: 1 },
      { t: '"Sales.EU"."Returns"', outcome: 'left-behind', reason: 'parent-left-behind:"Sales.EU"."Order Items"', n: 1 },
      { t: '"Sales.EU"."Kunde"', outcome: 'left-behind', reason: 'test-account', n: 1 },
    ]),
  );
  expect(await one(prod, "SELECT count(*)::text AS v FROM pg_namespace WHERE nspname LIKE 'cutover\\_stage\\_%'")).toBe('0');
  // The dry run said so beforehand.
  const dry = Object.fromEntries(report.dryRun!.tables.map((t) => [t.table, t.toMove]));
  const moved = Object.fromEntries(report.validation!.tables.map((t) => [t.table, t.moved]));
  expect(dry).toEqual(moved);
  expect(moved['"Sales.EU"."Returns"']).toBe(2);
}, 180000);

describe('preflight refuses what cannot work, naming it', () => {
  let prod: string;
  beforeAll(async () => {
    prod = await h.production(REAL_SCHEMA + TWO_SEQUENCES + REAL_PRODUCTION);
  });
  const check = (plan: Record<string, unknown>) => preflight({ plan: validatePlan(plan) });

  test('an FK on some partitions only: the partition without it is checked, and named when its rows break it', async () => {
    await rows(
      prod,
      `CREATE TABLE "Sales.EU"."Order Items 2027" PARTITION OF "Sales.EU"."Order Items" FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
      INSERT INTO "Sales.EU"."Order Items" ("Line ID", "Order ID", "Shipped On", "Unit Price €") VALUES (90, 1, '2027-05-05', 9.00), (91, 777, '2027-05-05', 9.00)`,
    );
    try {
      await expect(check(realPlan('rs-partial'))).rejects.toMatchObject({
        type: 'PlanError',
        message: expect.stringContaining(
          'tables[1].table: "Sales.EU"."Order Items" (target): foreign key items 2025 order (on 2 of 3 partitions) → "Sales.EU"."Order" is not declared on partition "Sales.EU"."Order Items 2027", and rows there break it: (Order ID)=(777)',
        ),
      });
      // Rows that satisfy it: the FK counts as the table's, with a warning in the dry run.
      await rows(prod, `DELETE FROM "Sales.EU"."Order Items" WHERE "Order ID" = 777`);
      const report = await check(realPlan('rs-partial'));
      expect(report.warnings.join('\n')).toContain(
        'is declared on 2 partition(s) but not on "Sales.EU"."Order Items 2027": treated as the table\'s foreign key',
      );
    } finally {
      await rows(
        prod,
        `ALTER TABLE "Sales.EU"."Order Items" DETACH PARTITION "Sales.EU"."Order Items 2027"; DROP TABLE "Sales.EU"."Order Items 2027"`,
      );
    }
  });

  test('ids: new on a key with two sequence columns, or none, names the key', async () => {
    const plan = realPlan('rs-keys');
    (plan.tables as Record<string, unknown>[]).push({ table: '"Sales.EU"."Two Seq"', select: { all: true }, ids: 'new' });
    (plan.tables as Record<string, unknown>[])[0].key = ['Shipped On', 'why'];
    await expect(check(plan)).rejects.toMatchObject({
      message: expect.stringMatching(
        /tables\[5\]\.ids: ids: new needs exactly one sequence- or identity-backed key column in the target; "Sales\.EU"\."Two Seq" key \(a, b\) has 2: a, b/,
      ),
    });
    await expect(check(plan)).rejects.toMatchObject({
      message: expect.stringMatching(
        /tables\[0\]\.ids: ids: new needs one key column backed by a sequence or identity column in the target; "Sales\.EU"\."Returns" key \(Shipped On, why\) has none/,
      ),
    });
  });

  test('an unquoted name folds to lower case, as in SQL, and the error points at the quoted spelling', async () => {
    const plan = realPlan('rs-fold');
    (plan.tables as Record<string, unknown>[])[4].table = '"Sales.EU".Kunde';
    await expect(check(plan)).rejects.toMatchObject({
      message: expect.stringContaining(
        'tables[4].table: unknown table "Sales.EU".kunde in source (pilot) (did you mean "Sales.EU"."Kunde"?',
      ),
    });
  });
});
