// The access-check SQL rules (plan/access-sql.ts) with PostgreSQL's own parser: one SELECT, nothing
// that writes, locks or escapes (COPY … TO PROGRAM, dblink, set_config, pg_read_file, lo_*), only
// allowlisted built-ins; and `plan check` refuses a plan carrying one, naming accessChecks[i].sql
// and its line. The same SQL on real PostgreSQL is in test/access-checks.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { accessSqlProblem, loadSqlParser } from '../plan/access-sql';
import { run as cutover } from '../client/main';
import type { Io } from '../client/io';

beforeAll(() => loadSqlParser());

test.each([
  "SELECT customer_id, email FROM customer WHERE email LIKE '%@example.com' ORDER BY customer_id",
  'SELECT c.customer_id FROM customer c LEFT JOIN country k USING (country_id) WHERE k.country_id IS NULL',
  'select staff_id from staff where is_admin and store_id in (1, 2)',
  "WITH a AS (SELECT * FROM staff) SELECT a.staff_id, count(*) OVER () FROM a WHERE lower(a.email) ~ 'x' GROUP BY 1",
  'SELECT g, g * 2 AS twice FROM generate_series(1, 1000) g;  -- trailing comment',
  "SELECT id FROM t WHERE doc->>'role' = 'admin' AND created_at > now() - interval '1 day' AND coalesce(x, 0) <> 0",
  "SELECT r.rolname FROM pg_roles r WHERE r.rolsuper AND pg_has_role(r.oid, 'member') AND has_table_privilege(r.oid, 'public.t', 'INSERT')",
  "SELECT extract(year FROM now()), position('a' IN 'abc'), substring('abc' FROM 2), trim(both ' ' FROM ' x '), now() AT TIME ZONE 'utc'",
  "SELECT 1 FROM t WHERE x IS DISTINCT FROM y AND z BETWEEN 1 AND 2 AND name NOT ILIKE 'a%' AND tags @> ARRAY['a'] AND nullif(a, b) IS NULL",
  'VALUES (1), (2) EXCEPT SELECT 1',
])('allowed: %s', (sql) => {
  expect(accessSqlProblem(sql)).toBeNull();
});

test.each([
  ["COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'", 'must be a SELECT (found COPY)'],
  ["SELECT dblink_exec('dbname=prod', 'INSERT INTO staff VALUES (99)')", 'function dblink_exec() is not allowed'],
  ["SELECT * FROM dblink('dbname=prod', 'SELECT 1') AS t(x int)", 'function dblink() is not allowed'],
  ["SELECT set_config('statement_timeout', '0', true), pg_sleep(60)", 'function set_config() is not allowed'],
  ["SELECT pg_read_file('/etc/passwd')", 'function pg_read_file() is not allowed'],
  ["SELECT pg_catalog.pg_read_binary_file('/etc/passwd')", 'function pg_read_binary_file() is not allowed'],
  ["SELECT * FROM pg_ls_dir('.')", 'function pg_ls_dir() is not allowed'],
  ["SELECT lo_import('/etc/passwd')", 'function lo_import() is not allowed'],
  ['SELECT pg_terminate_backend(1)', 'function pg_terminate_backend() is not allowed'],
  ['SELECT pg_cancel_backend(1)', 'function pg_cancel_backend() is not allowed'],
  ['SELECT pg_sleep(100)', 'function pg_sleep() is not allowed'],
  ['SELECT pg_advisory_lock(1)', 'function pg_advisory_lock() is not allowed'],
  ["SELECT nextval('customer_customer_id_seq')", 'function nextval() is not allowed'],
  ["SELECT query_to_xml('select 1', true, true, '')", 'function query_to_xml() is not allowed'],
  ['SELECT txid_current()', 'function txid_current() is not allowed'],
  ['SELECT public.my_function()', 'function public.my_function is not allowed: only built-in functions'],
  ['SELECT 1 FROM t WHERE a OPERATOR(public.===) b', 'operator public.=== is not allowed'],
  ['WITH d AS (DELETE FROM rental RETURNING *) SELECT * FROM d', 'a data-modifying WITH (DELETE in WITH d) is not allowed'],
  [
    'WITH a AS (SELECT 1), u AS (UPDATE staff SET x = 1 RETURNING 1) SELECT * FROM a',
    'a data-modifying WITH (UPDATE in WITH u) is not allowed',
  ],
  ["INSERT INTO staff VALUES (99, NULL, 'Sneaky') RETURNING *", 'must be a SELECT (found INSERT)'],
  ['COMMIT; DELETE FROM rental', 'must be exactly one SELECT statement (found 2 statements)'],
  ['SELECT 1; SELECT 2', 'must be exactly one SELECT statement (found 2 statements)'],
  ['SET TRANSACTION READ WRITE', 'must be a SELECT (found SET)'],
  ['SELECT * INTO copy_of_staff FROM staff', 'SELECT INTO is not allowed'],
  ['SELECT * FROM staff FOR UPDATE', 'a locking clause'],
  ['SELECT * FROM (SELECT * FROM staff FOR SHARE) s', 'a locking clause'],
  ['SELECT * FROM staff WHERE', 'is not valid PostgreSQL: syntax error at end of input'],
  ['EXPLAIN ANALYZE DELETE FROM staff', 'must be a SELECT (found EXPLAIN)'],
  ['CALL p()', 'must be a SELECT (found CALL)'],
  ["SELECT x FROM (SELECT dblink_exec('x', 'y') x) s WHERE lower(x) = 'a'", 'function dblink_exec() is not allowed'],
])('refused: %s', (sql, why) => {
  expect(accessSqlProblem(sql)).toContain(why);
});

test('plan check refuses a plan whose access check escapes, naming accessChecks[i].sql, its line and the function; nothing else runs', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cutover-access-sql-'));
  try {
    const file = path.join(dir, 'plan.yaml');
    writeFileSync(
      file,
      `version: 1
id: access-sql
strategy: selective
source: pilot
target: production
approvals: { approvers: [bob], required: 1 }
tables:
  - { table: staff, select: { all: true } }
accessChecks:
  - { name: fine, sql: "SELECT staff_id FROM staff WHERE is_admin" }
  - name: shell
    sql: "COPY (SELECT 1) TO PROGRAM 'touch /tmp/x'"
  - { name: write, sql: "SELECT dblink_exec('dbname=production', 'DELETE FROM staff')" }
`,
    );
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (s) => void out.push(s), err: (s) => void err.push(s), isTTY: false };
    const code = await cutover(['node', 'cutover', 'plan', 'check', file], io, {});
    expect(code).toBe(2);
    expect(err.join('\n')).toContain(`${file}:12: accessChecks[1].sql: must be a SELECT (found COPY)`);
    expect(err.join('\n')).toContain(`${file}:13: accessChecks[2].sql: function dblink_exec() is not allowed in an access check`);
    expect(out.join('\n')).not.toContain('ok');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
