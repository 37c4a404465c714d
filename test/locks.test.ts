// Locks on Production are waited for within bounds (plan `locks`): another session holding a lock on
// a production table during publish makes publish wait at most locks.timeout per attempt, name that
// session (pid, application_name, start times; no query text) in the step's progress, retry with
// backoff, and succeed once the lock is gone — or, if it never is, fail final (the run pauses) naming
// it, with nothing published. Restore's exclusive locks are taken without queueing: the
// application's inserts go on while it waits. Read-only and full databases fail final, named.
import { Client } from 'pg';
import { MockActivityEnvironment } from '@temporalio/testing';
import { cleanup } from '../activities/cleanup';
import { publish } from '../activities/publish';
import { stage } from '../activities/stage';
import { connect } from '../activities/db/connect';
import { lockWithoutQueueing } from '../activities/db/lock-wait';
import { isPgError, pgFailure } from '../activities/db/pg-errors';
import type { PublishResult, StepInput } from '../common/results';
import { validatePlan } from '../plan/validate';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, shopPlan } from './helpers/shop';
import { failureOf } from './helpers/steps';

const base = uniqueName('cutover_locks');
const made: string[] = [];
let pilot = '';
const db = async (suffix: string, sql: string) => {
  const name = `${base}_${suffix}`;
  made.push(name);
  return createDb(name, sql);
};
beforeAll(async () => {
  pilot = await db('pilot', SHOP_SCHEMA + SHOP_PILOT);
  process.env.CUTOVER_DB_PILOT = pilot;
}, 60000);
afterAll(async () => {
  for (const name of made) await dropDb(name);
});

/** A session of "the application" holding `lockSql` in an open transaction until released. */
async function holder(url: string, lockSql: string) {
  const c = new Client({ connectionString: url, application_name: 'billing-batch' });
  await c.connect();
  await c.query('BEGIN');
  await c.query(lockSql);
  const pid = (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0].p;
  return {
    pid,
    release: async () => {
      await c.query('COMMIT');
      await c.end();
    },
  };
}

async function staged(tag: string, locks: Record<string, unknown>) {
  const prod = await db(tag, SHOP_SCHEMA + SHOP_PRODUCTION);
  process.env.CUTOVER_DB_PRODUCTION = prod;
  const input: StepInput = {
    plan: validatePlan(shopPlan(`locks-${tag}`, { locks })),
    runKey: `locks${tag}`,
    workflowId: `cutover-locks-${tag}`,
    runId: 'r',
  };
  const env = new MockActivityEnvironment();
  await env.run(stage, input);
  await env.run(cleanup, input);
  const phases: string[] = [];
  env.on('heartbeat', (d: { phase?: string } | undefined) => {
    if (d?.phase && phases[phases.length - 1] !== d.phase) phases.push(d.phase);
  });
  return { prod, input, env, phases };
}

const count = async (url: string, sql: string) => Number((await rows<{ n: string }>(url, `SELECT (${sql})::text AS n`))[0].n);

test('a lock held on a production table during publish: publish waits per attempt, names the session in its progress, retries, and publishes once it is released', async () => {
  const { prod, input, env, phases } = await staged('wait', { timeout: '300ms', retries: 10 });
  const lock = await holder(prod, 'LOCK TABLE customer IN SHARE MODE'); // blocks INSERT (ROW EXCLUSIVE)
  const running = env.run(publish, input);
  // The progress names the blocking session: its pid and application, not what it ran.
  const t0 = Date.now();
  while (!phases.some((p) => p.includes(`pid ${lock.pid}`)) && Date.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 100));
  const named = phases.find((p) => p.includes(`pid ${lock.pid}`));
  expect(named).toBeDefined();
  expect(named).toContain('application_name "billing-batch"');
  expect(named).toContain('ShareLock on customer');
  expect(named).not.toContain('LOCK TABLE');
  // Nothing was published while it waited (and publish holds no lock meanwhile: this read is not blocked).
  expect(await count(prod, 'SELECT count(*) FROM customer WHERE store_id = 1')).toBe(0);
  await lock.release();
  const result = (await running) as PublishResult;
  expect(result.tables.find((t) => t.table === 'public.customer')?.inserted).toBe(6);
  expect(await count(prod, 'SELECT count(*) FROM customer WHERE store_id = 1')).toBe(6);
}, 120000);

test('a lock that is never released: after locks.retries the failure is final, names the session, nothing published', async () => {
  const { prod, input, env } = await staged('never', { timeout: '200ms', retries: 1 });
  const lock = await holder(prod, 'LOCK TABLE rental IN ACCESS EXCLUSIVE MODE');
  try {
    const failure = await failureOf(env.run(publish, input));
    expect(failure).toMatchObject({ type: 'DatabaseError', nonRetryable: true });
    expect(failure.message).toContain('could not take its locks on production after 2 attempt(s)');
    expect(failure.message).toContain(`pid ${lock.pid} (application_name "billing-batch"`);
    expect(failure.message).toContain('AccessExclusiveLock on rental');
  } finally {
    await lock.release();
  }
  expect(await count(prod, 'SELECT count(*) FROM customer WHERE store_id = 1')).toBe(0);
  expect(await count(prod, 'SELECT count(*) FROM cutover.run WHERE published_at IS NOT NULL')).toBe(0);
}, 120000);

test("restore's EXCLUSIVE lock, taken without queueing, does not hold up the application's inserts while another transaction is in the way", async () => {
  const prod = await db('queue', 'CREATE TABLE t (id int)');
  const other = await holder(prod, 'INSERT INTO t VALUES (1)'); // ROW EXCLUSIVE, open
  const app = new Client({ connectionString: prod });
  await app.connect();
  await app.query("SET statement_timeout = '3s'");
  const restoreSession = await connect(prod, 'cutover:restore-test');
  try {
    // Control: a plain LOCK queues, and the application's insert queues behind it (the test can fail).
    const queued = new Client({ connectionString: prod });
    await queued.connect();
    await queued.query('BEGIN');
    const waiting = queued.query('LOCK TABLE t IN EXCLUSIVE MODE');
    await new Promise((r) => setTimeout(r, 300));
    expect(
      await app.query('INSERT INTO t VALUES (2)').then(
        () => 'inserted',
        (e: Error) => e.message,
      ),
    ).toContain('statement timeout');
    await rows(prod, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = 'LOCK TABLE t IN EXCLUSIVE MODE'");
    await waiting.catch(() => undefined);
    await queued.end().catch(() => undefined);

    // The restore's way: NOWAIT, tried again for up to its timeout; the application's inserts go on meanwhile.
    await restoreSession.query('BEGIN');
    const locking = lockWithoutQueueing(restoreSession, 'LOCK TABLE t IN EXCLUSIVE MODE NOWAIT', 2000).then(
      () => 'locked',
      (e: { code?: string }) => e.code,
    );
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await app.query('INSERT INTO t VALUES (3)');
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(await locking).toBe('55P03'); // the other transaction stayed: given up, nothing held
    await restoreSession.query('ROLLBACK');
    // Once it is gone, the lock is taken.
    await other.release();
    await restoreSession.query('BEGIN');
    await expect(lockWithoutQueueing(restoreSession, 'LOCK TABLE t IN EXCLUSIVE MODE NOWAIT', 2000)).resolves.toBeUndefined();
    await restoreSession.query('ROLLBACK');
  } finally {
    await app.end();
    await restoreSession.end();
  }
}, 60000);

test('a read-only database: final, naming the database', async () => {
  const prod = await db('ro', 'CREATE TABLE t (id int)');
  const c = await connect(prod, 'cutover:test');
  try {
    await c.query('SET default_transaction_read_only = on');
    const e = await c.query('INSERT INTO t VALUES (1)').then(
      () => null,
      (x: unknown) => x,
    );
    expect(isPgError(e)).toBe(true);
    const f = await pgFailure(e as never);
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe('DatabaseError');
    expect(f.message).toContain(`database ${base}_ro is read-only`);
    expect(f.message).toContain('SQLSTATE 25006');
  } finally {
    await c.end();
  }
}, 60000);

test('a full database (53100): final, naming the database and table', async () => {
  const e = Object.assign(new Error('could not extend file "base/1/2": No space left on device'), {
    severity: 'ERROR',
    code: '53100',
    database: 'prod',
    schema: 'public',
    table: 'customer',
  });
  const f = await pgFailure(e);
  expect(f.nonRetryable).toBe(true);
  expect(f.message).toContain('database prod (table public.customer) is out of disk space');
});
