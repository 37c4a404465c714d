/**
 * activities/db/transaction.ts, the one way activities run a transaction, on the real PostgreSQL:
 * what the work wrote is kept only when it succeeds and the transaction is to be kept; a failure
 * rolls back and surfaces the work's own error, even when the connection died with it; the
 * isolation level and read-only mode asked for are the ones the work runs in.
 */
import { Client } from 'pg';
import { beginStatement, inTransaction } from '../activities/db/transaction';
import { createDb, dropDb } from './helpers/pg';

const DB = `cutover_txn_${process.pid}`;
let url: string;
let db: Client;

beforeAll(async () => {
  url = await createDb(DB, 'CREATE TABLE t (n int PRIMARY KEY);');
});

beforeEach(async () => {
  db = new Client({ connectionString: url });
  await db.connect();
  await db.query('TRUNCATE t');
});

afterEach(async () => {
  await db.end().catch(() => undefined);
});

afterAll(async () => {
  await dropDb(DB);
});

/** What another session sees: only committed rows. */
async function committed(): Promise<number[]> {
  const other = new Client({ connectionString: url });
  await other.connect();
  try {
    return (await other.query<{ n: number }>('SELECT n FROM t ORDER BY n')).rows.map((r) => r.n);
  } finally {
    await other.end();
  }
}

test('the BEGIN statement says what was asked', () => {
  expect(beginStatement()).toBe('BEGIN');
  expect(beginStatement({ readOnly: true })).toBe('BEGIN READ ONLY');
  expect(beginStatement({ isolation: 'REPEATABLE READ', readOnly: true, end: 'rollback' })).toBe(
    'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
  );
});

test('work that succeeds is committed, and its value returned', async () => {
  const out = await inTransaction(db, async () => {
    await db.query('INSERT INTO t VALUES (1), (2)');
    expect(await committed()).toEqual([]); // not before COMMIT
    return 'done';
  });
  expect(out).toBe('done');
  expect(await committed()).toEqual([1, 2]);
  expect((await db.query<{ s: string }>("SELECT current_setting('transaction_isolation') AS s")).rows[0].s).toBe('read committed'); // out of the transaction again
});

test('work that fails is rolled back, its own error thrown, and the connection usable again', async () => {
  const boom = new Error('the work failed');
  await expect(
    inTransaction(db, async () => {
      await db.query('INSERT INTO t VALUES (1)');
      throw boom;
    }),
  ).rejects.toBe(boom);
  expect(await committed()).toEqual([]);
  await db.query('INSERT INTO t VALUES (3)');
  expect(await committed()).toEqual([3]);
});

test('a failed statement rolls the whole transaction back', async () => {
  await expect(
    inTransaction(db, async () => {
      await db.query('INSERT INTO t VALUES (1)');
      await db.query('INSERT INTO t VALUES (1)'); // duplicate key
    }),
  ).rejects.toMatchObject({ code: '23505' });
  expect(await committed()).toEqual([]);
});

test("when the connection dies with the work, the work's error is thrown, not the failed ROLLBACK's", async () => {
  const killer = new Client({ connectionString: url });
  await killer.connect();
  try {
    const pid = (await db.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0].p;
    db.on('error', () => undefined); // the terminated session reports itself here too
    let workError: unknown;
    const err = await inTransaction(db, async () => {
      await db.query('INSERT INTO t VALUES (1)');
      await killer.query('SELECT pg_terminate_backend($1)', [pid]);
      // The driver says so either as the server's "terminating connection" or as its own "not queryable".
      await db.query('SELECT 1').catch((e: unknown) => {
        workError = e;
        throw e;
      });
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(workError).toBeInstanceOf(Error);
    expect(err).toBe(workError);
    expect(await committed()).toEqual([]);
  } finally {
    await killer.end();
  }
});

test("end: 'rollback' keeps nothing even when the work succeeds (a dry run, a preview)", async () => {
  const out = await inTransaction(
    db,
    async () => {
      await db.query('INSERT INTO t VALUES (1)');
      return (await db.query<{ n: string }>('SELECT count(*)::text AS n FROM t')).rows[0].n;
    },
    { end: 'rollback' },
  );
  expect(out).toBe('1');
  expect(await committed()).toEqual([]);
});

test('the work runs at the isolation level and in the access mode asked for', async () => {
  const seen = await inTransaction(
    db,
    async () =>
      (
        await db.query<{ i: string; ro: string }>(
          "SELECT current_setting('transaction_isolation') AS i, current_setting('transaction_read_only') AS ro",
        )
      ).rows[0],
    { isolation: 'REPEATABLE READ', readOnly: true },
  );
  expect(seen).toEqual({ i: 'repeatable read', ro: 'on' });
  await expect(inTransaction(db, () => db.query('INSERT INTO t VALUES (1)'), { readOnly: true })).rejects.toMatchObject({ code: '25006' });
  expect(await committed()).toEqual([]);
});
