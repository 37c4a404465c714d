// Waiting for locks on Production, bounded: a statement that takes locks there (publish, surgical
// rollback, restore) waits at most the plan's `locks.timeout` (PostgreSQL's lock_timeout), then its
// transaction lets go of everything, the step's progress names the session in the way (pid,
// application_name, state, transaction and query start; never its query text, which may hold
// values) and it tries again after a backoff, up to `locks.retries` times; then the run pauses with
// that session named. Without this, publish queued behind another session's lock for up to its
// 12 h limit with nothing in status.
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Client } from 'pg';
import type { Plan } from '../../plan/schema';
import { parseDuration } from '../../plan/duration';

export const DEFAULT_LOCK_TIMEOUT = '5s';
export const DEFAULT_LOCK_RETRIES = 5;
const MAX_BACKOFF_MS = 30_000;

export interface LockPolicy {
  timeoutMs: number;
  retries: number;
}

export function lockPolicy(plan: Pick<Plan, 'locks'>): LockPolicy {
  return { timeoutMs: parseDuration(plan.locks?.timeout ?? DEFAULT_LOCK_TIMEOUT), retries: plan.locks?.retries ?? DEFAULT_LOCK_RETRIES };
}

/** For the rest of the current transaction: no lock is waited for longer than the policy says. */
export async function limitLockWaits(db: Client, p: LockPolicy): Promise<void> {
  await db.query(`SET LOCAL lock_timeout = '${Math.max(1, Math.round(p.timeoutMs))}ms'`);
}

/** lock_timeout fired (or NOWAIT found the lock taken): SQLSTATE 55P03. */
export const isLockNotAvailable = (e: unknown): boolean => (e as { code?: string } | null)?.code === '55P03';

export interface Blocker {
  pid: number;
  application: string;
  state: string | null;
  xactStart: string | null;
  queryStart: string | null;
  relation: string;
  mode: string;
}

/** Table lock modes that conflict with `mode` (PostgreSQL's table, "Conflicting Lock Modes"). */
const CONFLICTS: Record<string, string[]> = {
  RowShareLock: ['ExclusiveLock', 'AccessExclusiveLock'],
  RowExclusiveLock: ['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  ExclusiveLock: [
    'RowShareLock',
    'RowExclusiveLock',
    'ShareUpdateExclusiveLock',
    'ShareLock',
    'ShareRowExclusiveLock',
    'ExclusiveLock',
    'AccessExclusiveLock',
  ],
};

/**
 * Other sessions holding a lock on one of `relations` (qualified names) in a mode that conflicts
 * with `mode`; if none does, those holding any lock there that is not a plain read (they may hold
 * the row locks a statement waited for).
 */
export async function blockersOn(db: Client, relations: string[], mode: keyof typeof CONFLICTS): Promise<Blocker[]> {
  const { rows } = await db.query<Blocker & { conflicting: boolean }>(
    `SELECT DISTINCT a.pid, coalesce(a.application_name, '') AS application, a.state,
            to_char(a.xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "xactStart",
            to_char(a.query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "queryStart",
            l.relation::regclass::text AS relation, l.mode, l.mode = ANY($2::text[]) AS conflicting
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid()
        AND l.relation = ANY (SELECT to_regclass(x)::oid FROM unnest($1::text[]) x)
        AND l.mode <> 'AccessShareLock'
      ORDER BY 1, 6`,
    [relations, CONFLICTS[mode]],
  );
  const hard = rows.filter((r) => r.conflicting);
  return (hard.length > 0 ? hard : rows).map(({ conflicting: _c, ...b }) => b);
}

/** One line per blocking session: what it holds and since when, no query text. */
export function describeBlockers(blockers: Blocker[]): string {
  if (blockers.length === 0) return 'no session holds a conflicting table lock now (a row lock, released since)';
  const byPid = new Map<number, Blocker[]>();
  for (const b of blockers) byPid.set(b.pid, [...(byPid.get(b.pid) ?? []), b]);
  return [...byPid.values()]
    .map((bs) => {
      const b = bs[0];
      const held = bs.map((x) => `${x.mode} on ${x.relation}`).join(', ');
      return `pid ${b.pid} (application_name ${JSON.stringify(b.application)}, ${b.state ?? 'state unknown'}, transaction since ${b.xactStart ?? '?'}, query since ${b.queryStart ?? '?'}) holds ${held}`;
    })
    .join('; ');
}

/**
 * `lockSql` (a LOCK … NOWAIT) tried every 100 ms for up to `timeoutMs` inside a savepoint: the locks
 * are taken only when all are free at once, and no request waits in the queue meanwhile (a queued
 * strong lock makes every later weaker request, e.g. the application's INSERTs, queue behind it).
 * Fails with PostgreSQL's own 55P03 when the time is up.
 */
export async function lockWithoutQueueing(db: Client, lockSql: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    await db.query('SAVEPOINT cutover_lock');
    try {
      await db.query(lockSql);
      await db.query('RELEASE SAVEPOINT cutover_lock');
      return;
    } catch (e) {
      await db.query('ROLLBACK TO SAVEPOINT cutover_lock').catch(() => {
        throw e; // the session is gone: its own error says why
      });
      if (!isLockNotAvailable(e) || Date.now() >= until) throw e;
      await sleep(100);
    }
  }
}

/** 1 s, 2 s, 4 s … at most 30 s: the pause before attempt `n + 1`. */
export const backoffMs = (n: number): number => Math.min(MAX_BACKOFF_MS, 1000 * 2 ** n);

export interface LockWait {
  /** What waits, for messages: "publish", "restore". */
  what: string;
  relations: string[];
  mode: keyof typeof CONFLICTS;
  /** Told on every wait (the step's progress shows it); null once the locks are taken. */
  onWait: (message: string | null) => void;
}

/**
 * Run `attempt` (a whole transaction that rolls itself back when it fails) until it does not fail
 * on a lock: between attempts the blockers are named through `onWait` and the backoff is slept.
 * After `retries` the failure is final (the run pauses) and names them.
 */
export async function withLockRetry<T>(db: Client, policy: LockPolicy, wait: LockWait, attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      const out = await attempt();
      if (n > 0) wait.onWait(null);
      return out;
    } catch (e) {
      if (!isLockNotAvailable(e)) throw e;
      const who = describeBlockers(await blockersOn(db, wait.relations, wait.mode).catch(() => []));
      const tried = `${n + 1} attempt(s), each waiting at most ${policy.timeoutMs} ms`;
      if (n >= policy.retries) {
        throw ApplicationFailure.create({
          type: 'DatabaseError',
          nonRetryable: true,
          message: `${wait.what}: could not take its locks on production after ${tried} (locks.timeout, locks.retries); nothing was changed. In the way: ${who}. End or wait for that session, then resume with retry`,
          details: [{ lockTimeout: true, attempts: n + 1, blockers: who }],
        });
      }
      const pause = backoffMs(n);
      wait.onWait(
        `waiting for locks on production (attempt ${n + 1} of ${policy.retries + 1} timed out after ${policy.timeoutMs} ms; next in ${pause / 1000} s): ${who}`,
      );
      await sleep(pause);
    }
  }
}

/** Cancellation-aware inside an activity (a cancelled step does not sleep on). */
async function sleep(ms: number): Promise<void> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined;
  }
  if (ctx) await ctx.sleep(ms);
  else await new Promise((r) => setTimeout(r, ms));
}
