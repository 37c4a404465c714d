// Long SQL steps heartbeat while they run, so a dead worker is noticed within the heartbeat
// timeout; when the activity is cancelled (or times out) the running statements are cancelled too,
// instead of grinding on in PostgreSQL beside the retry.
import { Context } from '@temporalio/activity';
import type { Plan } from '../../plan/schema';
import { openContext, type Context as DbContext } from './context';

/** `details`: what each keep-alive beat carries (a step's own progress); none by default. */
export async function whileAlive<T>(db: DbContext, fn: () => Promise<T>, details?: () => unknown): Promise<T> {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return fn(); // called outside an activity (cutover plan check --connect)
  }
  // Steps that report progress themselves (stage) pass it as `details`: a bare beat would erase it.
  // Several beats per heartbeat timeout, however short the workflow made it.
  const every = Math.min(5000, (ctx.info.heartbeatTimeoutMs || 15000) / 3);
  ctx.heartbeat(details?.());
  const timer = setInterval(() => ctx.heartbeat(details?.()), every);
  let finished = false;
  ctx.cancelled.catch(() => (finished ? undefined : db.cancel()));
  try {
    return await fn();
  } finally {
    finished = true;
    clearInterval(timer);
  }
}

/** Open both connections and the resolved plan for one step, kept alive while `fn` runs. */
export async function withContext<T>(plan: Plan, fn: (db: DbContext) => Promise<T>, opts: { details?: () => unknown } = {}): Promise<T> {
  const db = await openContext(plan);
  try {
    return await whileAlive(db, () => fn(db), opts.details);
  } finally {
    await db.close();
  }
}
