// A live Production: an application keeps writing while a whole run goes through the workflow
// (inserts of its own rows, updates of pre-existing rows in the touched tables, deletes of its own
// earlier rows) — the run completes, every one of the application's writes is there, and the
// published rows are exact. A production trigger that changes a pre-existing row when publish
// inserts is caught by the publish transaction's own counts: refused, naming the table, nothing
// published. (validation.preExisting: full catching a tampered pre-existing row: test/validate.test.ts.)
import { Client } from 'pg';
import { MockActivityEnvironment } from '@temporalio/testing';
import { cleanup } from '../activities/cleanup';
import { publish } from '../activities/publish';
import { stage } from '../activities/stage';
import type { StepInput } from '../common/results';
import { validatePlan } from '../plan/validate';
import { useHarness } from './helpers/harness';
import { runToCompletion } from './helpers/outcome';
import { rows } from './helpers/pg';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, shopPlan } from './helpers/shop';
import { failureOf } from './helpers/steps';

const h = useHarness('cutover_live', SHOP_SCHEMA + SHOP_PILOT);
const one = async (url: string, sql: string) => (await rows<{ v: string }>(url, sql))[0]?.v;

/** The application: one statement at a time, autocommit, until stopped; what it wrote, to check afterwards. */
async function application(url: string, stop: { now: boolean }) {
  const c = new Client({ connectionString: url });
  await c.connect();
  // A publish or validate that blocked ordinary writes would fail the writer here, not hang the test.
  await c.query("SET lock_timeout = '30s'");
  const own = { customers: [] as number[], rentals: [] as number[], deletedRentals: [] as number[], last: 0, committedAt: [] as number[] };
  try {
    for (let i = 1; !stop.now; i++) {
      const cust = await c.query<{ id: number }>(
        'INSERT INTO customer (email, store_id, country_id) VALUES ($1, 9, 10) RETURNING customer_id AS id',
        [`app${i}@prod.example`],
      );
      own.customers.push(cust.rows[0].id);
      own.committedAt.push(Date.now());
      const rent = await c.query<{ id: number }>('INSERT INTO rental (customer_id, amount) VALUES ($1, $2) RETURNING rental_id AS id', [
        cust.rows[0].id,
        i,
      ]);
      own.rentals.push(rent.rows[0].id);
      // Pre-existing rows of touched tables: production's customer 2 and rental 1.
      await c.query('UPDATE customer SET email = $1 WHERE customer_id = 2', [`p2-v${i}@prod.example`]);
      await c.query('UPDATE rental SET amount = $1 WHERE rental_id = 1', [i]);
      if (i % 3 === 0) {
        const gone = own.rentals[own.rentals.length - 2];
        await c.query('DELETE FROM rental WHERE rental_id = $1', [gone]);
        own.deletedRentals.push(gone);
      }
      own.last = i;
    }
    return own;
  } catch (e) {
    // Blocked past lock_timeout: say by whom (the other sessions of this database and what they ran).
    const who = await rows(
      url,
      `SELECT pid, application_name, state, wait_event_type, left(query, 200) AS query, pg_blocking_pids(pid) AS blocked_by
                                   FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    ).catch(String);
    throw new Error(`the application's write failed: ${(e as Error).message}\nsessions: ${JSON.stringify(who, null, 1)}`, { cause: e });
  } finally {
    await c.end();
  }
}

test('an application writing throughout the run: the run completes, none of its writes is lost, the published rows are exact', async () => {
  const prod = await h.production(SHOP_SCHEMA + SHOP_PRODUCTION);
  // Publish takes a while here (a slow insert trigger that changes nothing), so the application
  // demonstrably writes while publish's transaction is open.
  await rows(
    prod,
    `CREATE FUNCTION slow_staff() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.4); RETURN NEW; END $$;
    CREATE TRIGGER staff_slow BEFORE INSERT ON staff FOR EACH ROW EXECUTE FUNCTION slow_staff()`,
  );
  const stop = { now: false };
  const writing = application(prod, stop);
  const plan = shopPlan('live-writer');
  let result;
  try {
    ({ result } = await runToCompletion(h, plan));
  } finally {
    stop.now = true;
  }
  const own = await writing;
  expect(result.status).toBe('completed');
  // The application committed while publish ran: between the step's start and end in the run's own record.
  const at = (outcome: string) => Date.parse(result.steps.find((x) => x.step === 'publish' && x.outcome === outcome)!.at);
  expect(own.committedAt.filter((t) => t > at('started') && t < at('completed')).length).toBeGreaterThan(1);

  // Every application write is there: its customers and rentals (minus those it deleted), its last updates.
  expect(own.last).toBeGreaterThan(0);
  const ids = (sql: string) => rows<{ id: number }>(prod, sql).then((r) => r.map((x) => x.id));
  expect(await ids("SELECT customer_id AS id FROM customer WHERE email LIKE 'app%@prod.example' ORDER BY 1")).toEqual(
    [...own.customers].sort((a, b) => a - b),
  );
  const kept = own.rentals.filter((r) => !own.deletedRentals.includes(r)).sort((a, b) => a - b);
  expect(
    await ids(
      `SELECT rental_id AS id FROM rental WHERE customer_id IN (SELECT customer_id FROM customer WHERE email LIKE 'app%@prod.example') ORDER BY 1`,
    ),
  ).toEqual(kept);
  expect(await one(prod, 'SELECT email AS v FROM customer WHERE customer_id = 2')).toBe(`p2-v${own.last}@prod.example`);
  expect(await one(prod, 'SELECT amount::int::text AS v FROM rental WHERE rental_id = 1')).toBe(String(own.last));

  // The published rows are exact: the moved customers (store 1), their rentals by customer as in the Pilot.
  expect(await one(prod, "SELECT string_agg(email, ',' ORDER BY email) AS v FROM customer WHERE store_id = 1")).toBe(
    'c10@example.com,c1@example.com,c7@example.com,c8@example.com,c9@example.com,mixed6@example.com',
  );
  const rentalsBy = `SELECT string_agg(lower(c.email) || ':' || r.amount, ',' ORDER BY lower(c.email), r.amount) AS v
                       FROM rental r JOIN customer c USING (customer_id) WHERE c.store_id = 1`;
  expect(await one(prod, rentalsBy)).toBe(
    await one(h.pilot, rentalsBy.replace('WHERE c.store_id = 1', 'WHERE c.customer_id IN (1, 6, 7, 8, 9, 10)')),
  );
  expect(await one(prod, "SELECT string_agg(name, ',' ORDER BY staff_id) AS v FROM staff")).toBe('Boss,Middle,Junior');
  // Publish recorded its own counts: the application's rows are not among them.
  const [{ r }] = await rows<{ r: { transactionCounts: { relation: string; inserted: number; updated: number; deleted: number }[] } }>(
    prod,
    'SELECT publish_result AS r FROM cutover.run',
  );
  expect(r.transactionCounts.find((c) => c.relation === 'public.customer')).toEqual({
    relation: 'public.customer',
    inserted: 6,
    updated: 0,
    deleted: 0,
  });
  expect(r.transactionCounts.find((c) => c.relation === 'public.rental')).toMatchObject({ updated: 0, deleted: 0 });
}, 300000);

/** Stage and clean `plan` into a fresh production, then publish it: the publish failure. */
async function publishFails(tag: string, triggerSql: string) {
  const prod = await h.production(SHOP_SCHEMA + SHOP_PRODUCTION);
  await rows(prod, triggerSql);
  const input: StepInput = {
    plan: validatePlan(shopPlan(`live-${tag}`)),
    runKey: `live${tag}`.slice(0, 12),
    workflowId: `cutover-live-${tag}`,
    runId: 'r',
  };
  const env = new MockActivityEnvironment();
  await env.run(stage, input);
  await env.run(cleanup, input);
  const before = await one(prod, "SELECT string_agg(x::text, ',' ORDER BY x::text) AS v FROM customer x");
  const failure = await failureOf(env.run(publish, input));
  return { prod, failure, before, runKey: input.runKey };
}

async function expectNothingPublished(prod: string, runKey: string, customersBefore: string) {
  expect(await one(prod, 'SELECT count(*)::text AS v FROM customer WHERE store_id = 1')).toBe('0');
  expect(await one(prod, "SELECT string_agg(x::text, ',' ORDER BY x::text) AS v FROM customer x")).toBe(customersBefore);
  expect(await one(prod, 'SELECT count(*)::text AS v FROM staff')).toBe('0');
  // (cleanup's left-behind rows are written before publish; publish's own are gone with its transaction)
  expect(
    await rows(
      prod,
      "SELECT 1 FROM cutover.manifest WHERE run_key = $1 AND outcome <> 'left-behind' UNION ALL SELECT 1 FROM cutover.id_map WHERE run_key = $1",
      [runKey],
    ),
  ).toEqual([]);
  expect(await one(prod, 'SELECT count(*)::text AS v FROM cutover.run WHERE published_at IS NOT NULL')).toBe('0');
}

test("a production trigger that updates a pre-existing row when publish inserts: caught by the transaction's own counts, nothing published", async () => {
  const { prod, failure, before, runKey } = await publishFails(
    'upd',
    `
    CREATE FUNCTION touch_first() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN UPDATE customer SET email = email || '.' WHERE customer_id = 1; RETURN NEW; END $$;
    CREATE TRIGGER customer_touch AFTER INSERT ON customer FOR EACH ROW EXECUTE FUNCTION touch_first()`,
  );
  expect(failure).toMatchObject({ type: 'ValidationError', nonRetryable: true });
  expect(failure.message).toContain('publish refused, nothing published');
  expect(failure.message).toContain('public.customer: the transaction inserted 6, updated 6, deleted 0; expected 6, 0, 0');
  // The trigger's update was rolled back with everything else.
  expect(await one(prod, 'SELECT email AS v FROM customer WHERE customer_id = 1')).toBe('p1@prod.example');
  await expectNothingPublished(prod, runKey, before);
}, 120000);

test('a production trigger that writes to a table outside the plan: refused, naming that table, nothing published', async () => {
  const { prod, failure, before, runKey } = await publishFails(
    'audit',
    `
    CREATE TABLE audit (what text);
    CREATE FUNCTION audit_rental() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit VALUES ('rental ' || NEW.rental_id); RETURN NEW; END $$;
    CREATE TRIGGER rental_audit AFTER INSERT ON rental FOR EACH ROW EXECUTE FUNCTION audit_rental()`,
  );
  expect(failure).toMatchObject({ type: 'ValidationError', nonRetryable: true });
  expect(failure.message).toContain('public.audit: the transaction inserted 12, updated 0, deleted 0; expected nothing');
  expect(await one(prod, 'SELECT count(*)::text AS v FROM audit')).toBe('0');
  await expectNothingPublished(prod, runKey, before);
}, 120000);
