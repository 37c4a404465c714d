// A step's activity outlives its workflow run when the run continues as new while the step runs
// (a flood of signals grew the history: workflows/step-runner.ts). Temporal then answers the
// activity's next heartbeat NOT_FOUND and the SDK cancels it; throwing the work away (a publish
// transaction, a backup's dump) would let a steady flood keep a step from ever finishing. So:
//  - each long activity of a run holds a lock for its duration: a PostgreSQL advisory lock per run
//    key and activity type, on its own session to the Pilot (every strategy has one; it writes
//    nothing), released when the activity ends or its worker dies;
//  - a NOT_FOUND cancellation whose run has continued as new is ignored: the activity is detached
//    and finishes its work (heartbeats go nowhere; its result is dropped by the server);
//  - the next run runs the step again; that attempt waits for the lock, heartbeating the detached
//    execution's latest progress when it runs in the same worker. When the detached execution
//    finished in that worker with the same input, its result is handed over (once); otherwise the
//    step is done over and its own guards find the work done (publish returns its recorded commit,
//    cleanup its recorded result, erasure finds the subjects erased; stage, validate and backup run again).
// The same lock keeps a retry from running beside an earlier attempt that timed out but still
// runs: such an attempt's run is still open, so its cancellation is honoured and the lock soon freed.
import { setTimeout as sleep } from 'node:timers/promises';
import { asyncLocalStorage, CancelledFailure, Context } from '@temporalio/activity';
import type { Client as TemporalClient } from '@temporalio/client';
import type { Client } from 'pg';
import { connect, resolveAlias } from './connect';

type Ctor = new (...args: unknown[]) => Context;
interface Internals {
  _client?: TemporalClient;
  _cancellationDetails: unknown;
}

/** Latest heartbeat details per lock, for an attempt that waits in the same worker to show. */
const latest = new Map<string, unknown>();

export const LOCK_APP_NAME = 'cutover-step-lock';

/** This worker's tally since it started (what the log lines say, for tests and a curious operator). */
export const stepLockTally = { detached: 0, waited: 0, handedOver: 0 };

/** Results of executions that finished detached in this worker, per lock: the run and input they had. */
const finished = new Map<string, { runId: string; input: string; value: unknown }>();

/** The input as compared for a hand-over: all of it but the chain of runs it came through. */
export function handOverKey(input: unknown): string {
  const { continuedFrom: _, ...rest } = (input ?? {}) as Record<string, unknown>;
  void _;
  return JSON.stringify(rest);
}

/**
 * The result a detached execution left for this attempt: only for an attempt of the run that
 * continued after it (`continuedFrom` names that run) with the same input, and only once — taken or
 * not, the first attempt to ask clears it, so a later retry runs the step afresh.
 */
export function takeHandOver(name: string, input: unknown): { value: unknown } | null {
  const from = (input as { continuedFrom?: unknown } | undefined)?.continuedFrom;
  if (!Array.isArray(from)) return null;
  const done = finished.get(name);
  finished.delete(name);
  if (!done || !from.includes(done.runId) || done.input !== handOverKey(input)) return null;
  stepLockTally.handedOver++;
  return { value: done.value };
}

/** The lock's name: one per run and activity type (a step runs one activity of a type at a time). */
export function stepLockName(runKey: string, activityType: string): string {
  return `cutover-step:${runKey}:${activityType}`;
}

/** Open the lock's session and take the lock, waiting (and heartbeating) while another execution holds it; null when the Pilot cannot be reached (the activity then fails on its own, with its own message). */
export async function takeStepLock(sourceAlias: string, name: string, ctx: Context): Promise<Client | null> {
  let db: Client;
  try {
    db = await connect(resolveAlias(sourceAlias), LOCK_APP_NAME);
  } catch {
    return null;
  }
  try {
    // The lock lives as long as this session: a worker host that vanishes must not hold it for the
    // system's two-hour TCP keepalive (a dead worker process closes its socket at once anyway).
    await db.query('SET tcp_keepalives_idle = 15; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3');
    for (let waited = false; ; waited = true) {
      const { rows } = await db.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [name]);
      if (rows[0].ok) {
        // An attempt that waited may belong to a run that has closed meanwhile (it continued as new
        // again): the step is the next run's to do, not this one's. (Unknown status: go on.)
        const status = waited ? await runStatus(ctx) : null;
        if (status !== null && status !== 'RUNNING')
          throw new CancelledFailure(`NOT_FOUND: the run this attempt belongs to is ${status.toLowerCase()}`);
        return db;
      }
      if (!waited) stepLockTally.waited++;
      if (!waited)
        ctx.log.info(
          'waiting for an earlier execution of this step to end (detached when the run continued as new, or an attempt that timed out)',
          { lock: name },
        );
      ctx.heartbeat(latest.get(name) ?? ctx.info.heartbeatDetails);
      await sleep(1000, undefined, { signal: ctx.cancellationSignal });
    }
  } catch (e) {
    await db.end().catch(() => undefined);
    throw e;
  }
}

/** End the lock's session (the lock goes with it). */
export async function releaseStepLock(db: Client | null, name: string): Promise<void> {
  latest.delete(name);
  await db?.end().catch(() => undefined);
}

/** The status of the activity's workflow run (asked under an abort signal of its own: the activity's may be aborted by then); null when unknown. */
async function runStatus(outer: Context): Promise<string | null> {
  const client = (outer as unknown as Internals)._client;
  const run = outer.info.workflowExecution;
  if (!client || !run) return null;
  try {
    const d = await client.withAbortSignal(new AbortController().signal, () =>
      client.workflow.getHandle(run.workflowId, run.runId).describe(),
    );
    return d.status.name;
  } catch {
    return null;
  }
}

/**
 * Run `fn` (the activity) under a context that passes every cancellation on except NOT_FOUND for a
 * run that continued as new: then the activity is detached, runs to its end, and leaves its result
 * for the next run's attempt in this worker (takeHandOver).
 */
export async function detachable<T>(name: string, input: unknown, fn: () => Promise<T>): Promise<T> {
  const outer = Context.current();
  const abort = new AbortController();
  let reject!: (e: unknown) => void;
  const cancelled = new Promise<never>((_, r) => (reject = r));
  cancelled.catch(() => undefined);
  let detached = false;
  outer.cancelled.catch(async (err: unknown) => {
    if (err instanceof Error && err.message === 'NOT_FOUND' && (await runStatus(outer)) === 'CONTINUED_AS_NEW') {
      detached = true;
      stepLockTally.detached++;
      outer.log.info('the run continued as new while this activity ran: it finishes detached, and the next run waits for it', {
        lock: name,
      });
      return;
    }
    abort.abort(err);
    reject(err);
  });
  const internal = outer as unknown as Internals;
  const ctx = new (Context as unknown as Ctor)(
    outer.info,
    cancelled,
    abort.signal,
    (details: unknown) => {
      latest.set(name, details);
      if (!detached) outer.heartbeat(details);
    },
    internal._client,
    outer.log,
    outer.metricMeter,
    internal._cancellationDetails,
  );
  const value = await asyncLocalStorage.run(ctx, fn);
  const run = outer.info.workflowExecution;
  if (detached && run) finished.set(name, { runId: run.runId, input: handOverKey(input), value });
  return value;
}
