// Access checks on real PostgreSQL after a real publish: a plan check that returns rows fails with
// their keys only (first column, or the plan's `show` columns); SQL that could write or escape is
// refused before it runs (COPY … TO PROGRAM, dblink_exec, set_config, pg_read_file, a data-modifying
// WITH, …) and writes nothing; checks run as the plan's accessCheckRole, which must not be able to
// write, and never as a superuser without one; the time limit is kept by the worker, so a check that
// lifts statement_timeout inside its SQL is still cancelled. Grants, row-level security and policies
// changed on a touched table since the snapshot fail the built-in check (and changing them back
// passes); a moved subject whose consent is gone in the Pilot fails.
import { existsSync } from 'node:fs';
import { accessChecks } from '../activities/access-checks';
import { preflight } from '../activities/preflight';
import type { AccessCheckResult, AccessChecksResult } from '../common/results';
import { admin, createDb, dropDb, rows, uniqueName } from './helpers/pg';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, shopPlan } from './helpers/shop';
import { failureOf, publishRun, schemaChecked, type Published } from './helpers/steps';

const base = uniqueName('cutover_acc');
/** Roles are cluster-wide: one reader and one that may write, unique to this run, dropped at the end. */
const CHECKER = `${base}_checker`.slice(0, 63);
const WRITER = `${base}_writer`.slice(0, 63);
const PWNED = `/tmp/${base}-copy-to-program`;
let pilot: string;
let prod: string;
let run: Published;

const PLAN_CHECKS = [
  { name: 'no-example-emails', sql: "SELECT customer_id, email FROM customer WHERE email LIKE '%@example.com' ORDER BY customer_id" },
  {
    name: 'shown-emails',
    sql: "SELECT customer_id, email, store_id FROM customer WHERE email LIKE '%@example.com' ORDER BY customer_id",
    show: ['customer_id', 'email'],
  },
  {
    name: 'every-customer-has-a-country',
    sql: 'SELECT c.customer_id FROM customer c LEFT JOIN country k USING (country_id) WHERE k.country_id IS NULL',
  },
  {
    name: 'shows-its-transaction',
    sql: "SELECT current_setting('statement_timeout') AS timeout, current_setting('transaction_read_only') AS read_only, current_user AS who",
    show: ['timeout', 'read_only', 'who'],
  },
  { name: 'many-rows', sql: 'SELECT g, g * 2 AS twice FROM generate_series(1, 1000) g;  -- trailing comment' },
  { name: 'sneaky-insert', sql: "INSERT INTO staff VALUES (99, NULL, 'Sneaky') RETURNING *" },
  { name: 'sneaky-cte', sql: 'WITH d AS (DELETE FROM rental RETURNING *) SELECT * FROM d' },
  { name: 'sneaky-commit', sql: 'COMMIT; DELETE FROM rental' },
  { name: 'sneaky-sequence', sql: "SELECT nextval('customer_customer_id_seq')" },
  { name: 'sneaky-read-write', sql: 'SET TRANSACTION READ WRITE' },
  { name: 'copy-to-program', sql: `COPY (SELECT 1) TO PROGRAM 'touch ${PWNED}'` },
  {
    name: 'dblink-write',
    sql: "SELECT dblink_exec('host=127.0.0.1 user=postgres dbname=' || current_database(), 'INSERT INTO staff VALUES (98, NULL, ''Dblink'')')",
  },
  { name: 'lift-timeout', sql: "SELECT set_config('statement_timeout', '0', true), count(*) FROM generate_series(1, 100000000)" },
  { name: 'read-file', sql: "SELECT pg_read_file('/etc/passwd')" },
  { name: 'for-update', sql: 'SELECT staff_id FROM staff FOR UPDATE' },
];
// The same escapes hidden behind views, which the parser cannot see into: the role stops them.
const VIEWS = `
  CREATE EXTENSION IF NOT EXISTS dblink;
  CREATE VIEW sneaky_dblink AS SELECT dblink_exec('host=127.0.0.1 user=postgres dbname=' || current_database(), 'INSERT INTO staff VALUES (97, NULL, ''ViaView'')') AS r;
  CREATE VIEW sneaky_file AS SELECT pg_read_file('/etc/passwd') AS f;
  CREATE VIEW slow_unbounded AS SELECT set_config('statement_timeout', '0', true) AS s, g FROM generate_series(1, 300000000) g;
`;

beforeAll(async () => {
  pilot = await createDb(`${base}_pilot`, SHOP_SCHEMA + SHOP_PILOT);
  // Roles, grants and views before the run's access snapshot: added after it, the built-in check would flag them.
  prod = await createDb(
    `${base}_prod`,
    `${SHOP_SCHEMA}${SHOP_PRODUCTION}${VIEWS}
    CREATE ROLE "${CHECKER}" NOLOGIN; GRANT USAGE ON SCHEMA public TO "${CHECKER}"; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${CHECKER}";
    CREATE ROLE "${WRITER}" NOLOGIN; GRANT SELECT, UPDATE ON customer TO "${WRITER}";`,
  );
  process.env.CUTOVER_DB_PILOT = pilot;
  process.env.CUTOVER_DB_PRODUCTION = prod;
  run = await publishRun(prod, schemaChecked(shopPlan('acc-run')), 'accrun00001');
}, 120000);

afterAll(async () => {
  await dropDb(`${base}_pilot`);
  await dropDb(`${base}_prod`);
  await admin((c) => c.query(`DROP ROLE IF EXISTS "${CHECKER}"; DROP ROLE IF EXISTS "${WRITER}"`));
});

const byName = (r: AccessChecksResult, name: string) => r.checks.find((c) => c.name === name) as AccessCheckResult;
const withChecks = (checks: { name: string; sql: string; show?: string[] }[], role: string | null = CHECKER) => ({
  ...run.input,
  plan: schemaChecked(shopPlan('acc-run', { accessChecks: checks, ...(role ? { accessCheckRole: role } : {}) })),
  before: run.before,
});
const failed = async (input: Parameters<typeof accessChecks>[0]) => {
  const f = await failureOf(accessChecks(input));
  expect(f).toMatchObject({ type: 'AccessCheckError', nonRetryable: true });
  return { message: f.message, result: f.details[0] as AccessChecksResult };
};

test('built-in checks pass on an untouched production: grants and RLS unchanged, every moved subject consented', async () => {
  const r = await accessChecks({ ...run.input, before: run.before });
  expect(r.ok).toBe(true);
  expect(r.checks.map((c) => [c.name, c.kind, c.passed, c.rowCount])).toEqual([
    ['built-in:grants-and-rls', 'built-in', true, 0],
    ['built-in:consent', 'built-in', true, 0],
  ]);
  // The snapshot covers partitions on their own.
  expect(run.before.relations.map((x) => x.relation)).toEqual(
    expect.arrayContaining(['public.measurement', 'public.measurement_2025', 'public.measurement_2026']),
  );
  expect(run.before.relations.find((x) => x.relation === 'public.measurement_2026')!.partitionOf).toBe('public.measurement');
}, 60000);

describe('plan checks', () => {
  let out: { message: string; result: AccessChecksResult };
  const seqBefore = () => rows<{ v: string }>(prod, 'SELECT last_value::text AS v FROM customer_customer_id_seq');
  let seq: { v: string }[];
  let rentals: unknown[];
  beforeAll(async () => {
    seq = await seqBefore();
    rentals = await rows(prod, 'SELECT count(*)::int AS n FROM rental');
    out = await failed(withChecks(PLAN_CHECKS));
  }, 120000);

  test('a failing check shows its rows by key only (up to 20, counted in full), or the columns it lists in show', async () => {
    const c = byName(out.result, 'no-example-emails');
    expect(c).toMatchObject({ kind: 'plan', passed: false, rowCount: 6, error: null });
    expect(c.rows).toEqual(['4', '5', '6', '7', '8', '9'].map((customer_id) => ({ customer_id })));
    expect(typeof c.durationMs).toBe('number');
    expect(out.message).toContain('no-example-emails: 6 row(s):');
    expect(out.message).toContain('{"customer_id":"4"}');
    expect(JSON.stringify(c)).not.toContain('example.com');
    const shown = byName(out.result, 'shown-emails');
    expect(shown.rows[0]).toEqual({ customer_id: '4', email: 'c1@example.com' });
    expect(JSON.stringify(shown)).not.toContain('store_id');
    const many = byName(out.result, 'many-rows');
    expect(many).toMatchObject({ passed: false, rowCount: 1000 });
    expect(many.rows).toHaveLength(20);
    expect(many.rows[19]).toEqual({ g: '20' });
    expect(out.message).toContain('many-rows: 1000 row(s), the first 20:');
    expect(byName(out.result, 'shows-its-transaction').rows).toEqual([{ timeout: '30s', read_only: 'on', who: CHECKER }]);
    expect(byName(out.result, 'every-customer-has-a-country')).toMatchObject({ passed: true, rowCount: 0, rows: [], error: null });
    expect(out.result.ok).toBe(false);
  });

  test('SQL that could write or escape is refused before it runs, naming what it found, and nothing is written', async () => {
    const refused = (name: string) => byName(out.result, name);
    expect(refused('sneaky-insert')).toMatchObject({
      passed: false,
      rowCount: 0,
      error: 'refused: accessChecks sql must be a SELECT (found INSERT)',
    });
    expect(refused('sneaky-cte')).toMatchObject({
      passed: false,
      error: 'refused: accessChecks sql a data-modifying WITH (DELETE in WITH d) is not allowed',
    });
    expect(refused('sneaky-commit').error).toContain('must be exactly one SELECT statement (found 2 statements)');
    expect(refused('sneaky-sequence').error).toContain('function nextval() is not allowed');
    expect(refused('sneaky-read-write').error).toContain('must be a SELECT (found SET)');
    expect(refused('copy-to-program').error).toContain('must be a SELECT (found COPY)');
    expect(refused('dblink-write').error).toContain('function dblink_exec() is not allowed');
    expect(refused('lift-timeout').error).toContain('function set_config() is not allowed');
    expect(refused('read-file').error).toContain('function pg_read_file() is not allowed');
    expect(refused('for-update').error).toContain('a locking clause');
    expect(out.message).toContain('sneaky-insert: refused: accessChecks sql must be a SELECT (found INSERT)');
    expect(existsSync(PWNED)).toBe(false);
    expect(out.message).not.toContain('root:');
    expect(await rows(prod, 'SELECT * FROM staff WHERE staff_id IN (98, 99)')).toEqual([]);
    expect(await rows(prod, 'SELECT count(*)::int AS n FROM rental')).toEqual(rentals);
    expect(await seqBefore()).toEqual(seq);
  });
});

describe("escapes the parser cannot see (behind a view) are stopped by the role and the worker's time limit", () => {
  afterEach(() => void delete process.env.CUTOVER_ACCESS_CHECK_TIMEOUT);

  test('dblink_exec through a view: the checker role may not open a passwordless connection; nothing is written', async () => {
    const { result } = await failed(withChecks([{ name: 'view-dblink', sql: 'SELECT r FROM sneaky_dblink' }]));
    expect(byName(result, 'view-dblink')).toMatchObject({ passed: false, error: expect.stringMatching(/password/) });
    expect(await rows(prod, 'SELECT * FROM staff WHERE staff_id = 97')).toEqual([]);
  }, 60000);

  test('pg_read_file through a view: permission denied to the checker role; no file content anywhere', async () => {
    const { message, result } = await failed(withChecks([{ name: 'view-file', sql: 'SELECT f FROM sneaky_file' }]));
    expect(byName(result, 'view-file')).toMatchObject({ passed: false, rows: [], error: 'permission denied for function pg_read_file' });
    expect(message).not.toContain('root:');
  }, 60000);

  test('a check that sets statement_timeout to 0 inside its SQL is still cancelled at its limit, by the worker', async () => {
    process.env.CUTOVER_ACCESS_CHECK_TIMEOUT = '2s';
    const started = Date.now();
    const { result } = await failed(withChecks([{ name: 'view-slow', sql: 'SELECT g FROM slow_unbounded' }]));
    expect(byName(result, 'view-slow')).toMatchObject({
      passed: false,
      error: expect.stringContaining('cancelled at its time limit of 2s'),
    });
    expect(Date.now() - started).toBeLessThan(20000);
    // Nothing of it still runs in PostgreSQL.
    expect(
      await rows(
        prod,
        "SELECT pid FROM pg_stat_activity WHERE query LIKE '%slow_unbounded%' AND state = 'active' AND pid <> pg_backend_pid()",
      ),
    ).toEqual([]);
  }, 60000);
});

describe('the role checks run as', () => {
  const CHECK = [{ name: 'no-admins', sql: 'SELECT staff_id FROM staff WHERE staff_id < 0' }];

  test('without accessCheckRole, checks refuse to run as a superuser and say how to create the role', async () => {
    const { message, result } = await failed(withChecks(CHECK, null));
    const c = byName(result, 'no-admins');
    expect(c.error).toContain("refused to run plan SQL as the worker's role postgres, which is a superuser");
    expect(c.error).toContain('accessCheckRole: cutover_checker');
    expect(c.error).toContain(
      'CREATE ROLE cutover_checker NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS; GRANT USAGE ON SCHEMA public TO cutover_checker; GRANT SELECT ON ALL TABLES IN SCHEMA public TO cutover_checker; GRANT cutover_checker TO CURRENT_USER;',
    );
    expect(message).toContain('no-admins: refused to run plan SQL');
  }, 60000);

  test('a named role that may write, or does not exist, is refused, naming why', async () => {
    const writer = byName((await failed(withChecks(CHECK, WRITER))).result, 'no-admins');
    expect(writer.error).toContain(
      `accessCheckRole ${WRITER} may not run checks: it may write public.customer (INSERT, UPDATE, DELETE or TRUNCATE)`,
    );
    const missing = byName((await failed(withChecks(CHECK, 'no_such_checker_role'))).result, 'no-admins');
    expect(missing.error).toContain(
      'accessCheckRole no_such_checker_role does not exist in this database; create it with: CREATE ROLE no_such_checker_role',
    );
  }, 60000);

  test('preflight refuses such a plan before anything is written: the SQL at accessChecks[i].sql, the role at accessChecks or accessCheckRole', async () => {
    const bad = [{ name: 'shell', sql: `COPY (SELECT 1) TO PROGRAM 'touch ${PWNED}'` }, ...CHECK];
    const f = await failureOf(preflight({ plan: withChecks(bad, null).plan }));
    expect(f).toMatchObject({ type: 'PlanError', nonRetryable: true });
    expect(f.message).toContain('accessChecks[0].sql: must be a SELECT (found COPY)');
    expect(f.message).toContain("accessChecks: refused to run plan SQL as the worker's role postgres, which is a superuser");
    const writer = await failureOf(preflight({ plan: withChecks(CHECK, WRITER).plan }));
    expect(writer.message).toContain(`accessCheckRole: accessCheckRole ${WRITER} may not run checks`);
    expect(existsSync(PWNED)).toBe(false);
    expect((await preflight({ plan: withChecks(CHECK).plan })).planId).toBe('acc-run');
  }, 60000);

  test('a read-only role passes, and the check runs as it', async () => {
    const r = await accessChecks(
      withChecks([...CHECK, { name: 'who', sql: 'SELECT current_user AS who WHERE current_user <> session_user AND false' }]),
    );
    expect(r.ok).toBe(true);
    expect(r.checks.filter((c) => c.kind === 'plan').map((c) => [c.name, c.passed, c.error])).toEqual([
      ['no-admins', true, null],
      ['who', true, null],
    ]);
  }, 60000);
});

test('a grant, a column grant, RLS and a policy added on touched tables since the snapshot fail the built-in check; undone, it passes', async () => {
  const change = `GRANT SELECT ON rental TO PUBLIC; GRANT UPDATE (email) ON customer TO PUBLIC;
                  ALTER TABLE measurement_2026 ENABLE ROW LEVEL SECURITY; CREATE POLICY store_one ON customer USING (store_id = 1)`;
  const undo = `REVOKE SELECT ON rental FROM PUBLIC; REVOKE UPDATE (email) ON customer FROM PUBLIC;
                ALTER TABLE measurement_2026 DISABLE ROW LEVEL SECURITY; DROP POLICY store_one ON customer`;
  await rows(prod, change);
  try {
    const { message, result } = await failed({ ...run.input, before: run.before });
    const grants = byName(result, 'built-in:grants-and-rls');
    expect(grants.passed).toBe(false);
    expect(grants.rows).toEqual(
      expect.arrayContaining([
        { relation: 'public.rental', change: 'grant added', detail: 'PUBLIC: SELECT (by postgres)' },
        { relation: 'public.customer', change: 'column grant added', detail: 'email: PUBLIC: UPDATE (by postgres)' },
        { relation: 'public.measurement_2026', change: 'row level security changed', detail: 'relrowsecurity false → true' },
        { relation: 'public.customer', change: 'policy added', detail: 'store_one AS PERMISSIVE FOR ALL TO PUBLIC USING ((store_id = 1))' },
      ]),
    );
    expect(grants.rowCount).toBe(4);
    expect(message).toContain('built-in:grants-and-rls: 4 row(s)');
    expect(byName(result, 'built-in:consent').passed).toBe(true);
  } finally {
    await rows(prod, undo);
  }
  expect((await accessChecks({ ...run.input, before: run.before })).ok).toBe(true);
}, 60000);

test('a moved subject whose consent was withdrawn in the Pilot fails the consent check, named by Pilot and production key', async () => {
  const [{ n }] = await rows<{ n: unknown[] }>(
    prod,
    "SELECT new_key AS n FROM cutover.id_map WHERE run_key = $1 AND table_name = 'public.customer' AND old_key = '[7]'",
    [run.input.runKey],
  );
  await rows(pilot, "UPDATE customer_consent SET status = 'withdrawn' WHERE customer_id = 7");
  try {
    const { message, result } = await failed({ ...run.input, before: run.before });
    expect(byName(result, 'built-in:consent')).toMatchObject({
      passed: false,
      rowCount: 1,
      rows: [
        {
          table: 'public.customer',
          pilotKey: '(customer_id)=(7)',
          productionKey: `(customer_id)=(${n[0]})`,
          subject: '7',
          reason: 'no consent row matching consent.granted in the Pilot',
        },
      ],
    });
    expect(message).toContain('built-in:consent: 1 row(s)');
  } finally {
    await rows(pilot, "UPDATE customer_consent SET status = 'granted' WHERE customer_id = 7");
  }
}, 60000);

test('a subject column outside the key is read from the Pilot row the manifest names', async () => {
  // Subjects identified by store_id (all moved customers are store 1): consent for "subject 1".
  const plan = schemaChecked(shopPlan('acc-run', { subjects: { table: 'customer', key: 'store_id' } }));
  expect((await accessChecks({ ...run.input, plan, before: run.before })).ok).toBe(true);
  await rows(pilot, "UPDATE customer_consent SET status = 'withdrawn' WHERE customer_id = 1");
  try {
    const { result } = await failed({ ...run.input, plan, before: run.before });
    const c = byName(result, 'built-in:consent');
    expect(c.rowCount).toBe(6);
    expect(c.rows[0]).toMatchObject({ subject: '1', reason: 'no consent row matching consent.granted in the Pilot' });
  } finally {
    await rows(pilot, "UPDATE customer_consent SET status = 'granted' WHERE customer_id = 1");
  }
}, 60000);

test('without the snapshot from before publish the built-in check fails, saying why', async () => {
  const { message, result } = await failed({ ...run.input } as Parameters<typeof accessChecks>[0]);
  expect(byName(result, 'built-in:grants-and-rls')).toMatchObject({
    passed: false,
    error: 'no access snapshot from before publish in the input (before)',
  });
  expect(message).toContain('built-in:grants-and-rls: no access snapshot from before publish in the input (before)');
}, 60000);
