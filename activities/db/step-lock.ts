// A long step's activity holds a lock for its duration: a PostgreSQL advisory lock per run key and
// activity type, on its own session to the Pilot (every strategy has one; it writes nothing),
// released when the activity ends or its worker dies. It keeps a retry from running beside an
// earlier attempt that timed out but still runs (a worker cut off from Temporal, not from its
// databases): the retry waits for the lock, heartbeating, and starts once that attempt has ended.
// An attempt that waited checks its run is still open (one whose run closed meanwhile has nothing
// left to do). A run never continues as new while a step runs (workflows/continue.ts), so an
// activity's run closes under it only when the run itself ends (cancelled, terminated, reset).
// Only public SDK APIs: the activity's own Context and its client.
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledFailure, type Context } from '@temporalio/activity';
import type { Client } from 'pg';
import { connect, resolveAlias } from './connect';

export const LOCK_APP_NAME = 'cutover-step-lock';

/** This worker's tally since it started (what the log lines say, for tests and a curious operator). */
export const stepLockTally = { waited: 0 };

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
        // An attempt that waited may belong to a run that has closed meanwhile (cancelled, reset):
        // it has nothing left to do. (Unknown status: go on.)
        const status = waited ? await runStatus(ctx) : null;
        if (status !== null && status !== 'RUNNING')
          throw new CancelledFailure(`NOT_FOUND: the run this attempt belongs to is ${status.toLowerCase()}`);
        return db;
      }
      if (!waited) stepLockTally.waited++;
      if (!waited) ctx.log.info('waiting for an earlier attempt of this step to end (one that timed out but still runs)', { lock: name });
      ctx.heartbeat(ctx.info.heartbeatDetails);
      await sleep(1000, undefined, { signal: ctx.cancellationSignal });
    }
  } catch (e) {
    await db.end().catch(() => undefined);
    throw e;
  }
}

/** End the lock's session (the lock goes with it). */
export async function releaseStepLock(db: Client | null): Promise<void> {
  await db?.end().catch(() => undefined);
}

/** The status of the activity's workflow run (asked under an abort signal of its own: the activity's may be aborted by then); null when unknown. */
async function runStatus(outer: Context): Promise<string | null> {
  const run = outer.info.workflowExecution;
  if (!run) return null;
  try {
    const client = outer.client;
    const d = await client.withAbortSignal(new AbortController().signal, () =>
      client.workflow.getHandle(run.workflowId, run.runId).describe(),
    );
    return d.status.name;
  } catch {
    return null;
  }
}
