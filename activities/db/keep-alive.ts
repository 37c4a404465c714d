// Long SQL steps heartbeat while they run, so a dead worker is noticed within the heartbeat
// timeout; when the activity is cancelled (or times out) the running statements are cancelled too,
// instead of grinding on in PostgreSQL beside the retry.
import { Context } from '@temporalio/activity';
import type { Plan } from '../../plan/schema';
import { openContext, type Context as DbContext } from './context';

export async function whileAlive<T>(db: DbContext, fn: () => Promise<T>, beat = true): Promise<T> {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return fn(); // called outside an activity (cutover plan check --connect)
  }
  // Steps that report progress themselves (stage) beat with details; a bare beat would erase them.
  const timer = beat ? setInterval(() => ctx.heartbeat(), 5000) : undefined;
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
export async function withContext<T>(plan: Plan, fn: (db: DbContext) => Promise<T>, opts: { heartbeat?: boolean } = {}): Promise<T> {
  const db = await openContext(plan);
  try {
    return await whileAlive(db, () => fn(db), opts.heartbeat ?? true);
  } finally {
    await db.close();
  }
}
