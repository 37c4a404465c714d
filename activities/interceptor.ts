// Activity interceptor registered by every worker the project builds, one place so no step can
// forget it:
//  - each activity resolves its connection aliases afresh (no worker restart for a new database
//    pair) and keeps them for its duration (activities/db/alias-scope.ts);
//  - an activity of a run whose preflight recorded the databases first checks its aliases still
//    reach them (activities/db/alias-identity.ts): a misconfigured worker refuses, the run pauses;
//  - a PostgreSQL error leaving an activity becomes a failure that carries the server's own detail
//    and says whether a retry can help (activities/db/pg-errors.ts);
//  - no error leaves with a password in it (messages end up in history, status, the UI and logs);
//  - nor with row values in its message or stack (activities/db/row-values.ts), and its details
//    (encrypted payloads with the codec on) are not printed by the worker's logger;
//  - the activity's attempt number goes with its result or failure (common/attempts.ts);
//  - rows moved per step are counted for the worker's metrics (activities/rows-metric.ts);
//  - a long step's activity holds its run's step lock (activities/db/step-lock.ts).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ATTEMPT_FIELD, type AttemptMarker } from '../common/attempts';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import type { StepInput } from '../common/results';
import { checkIdentities } from './db/alias-identity';
import { pinnedUrls, withAliasScope } from './db/alias-scope';
import { connect, redactSecrets, urlSecrets } from './db/connect';
import { isPgError, KEY_VALUES_SQL, pgFailure } from './db/pg-errors';
import { reduceDetail, withholdValuesIn } from './db/row-values';
import { countRowsMoved } from './rows-metric';
import { releaseStepLock, stepLockName, takeStepLock } from './db/step-lock';

/** Mask passwords in an error's message and stack, and in its causes (in place: the failure converter reads them). */
export function redactError(e: unknown, secrets: string[], depth = 0): unknown {
  if (!(e instanceof Error) || depth > 5) return e;
  const clean = (t: string) => redactSecrets(t, secrets);
  if (e.message !== clean(e.message)) e.message = clean(e.message);
  if (e.stack && e.stack !== clean(e.stack)) e.stack = clean(e.stack);
  // Node's URL errors carry the whole input (with its password) in `input`.
  if ('input' in e && typeof (e as { input?: unknown }).input === 'string')
    (e as { input?: string }).input = clean((e as { input: string }).input);
  if (e.cause) redactError(e.cause, secrets, depth + 1);
  return e;
}

/**
 * Row values out of an error's message and stack, and its causes (in place, like redactError);
 * an ApplicationFailure's details stay (the codec encrypts them) but are hidden from loggers
 * (util.inspect prints an error's own enumerable properties: the SDK logs every failed activity).
 */
export function withholdRowValues(e: unknown, depth = 0): unknown {
  if (!(e instanceof Error) || depth > 5) return e;
  if (e.message !== withholdValuesIn(e.message)) e.message = withholdValuesIn(e.message);
  if (e.stack && e.stack !== withholdValuesIn(e.stack)) e.stack = withholdValuesIn(e.stack);
  // A PostgreSQL error nested as a cause: loggers print its fields too (DETAIL, CONTEXT quote rows).
  const pg = e as Error & { code?: unknown; detail?: unknown; where?: unknown; constraint?: string };
  if (typeof pg.detail === 'string')
    pg.detail = reduceDetail(pg.detail, typeof pg.code === 'string' ? pg.code : '23000', false, pg.constraint);
  if (typeof pg.where === 'string') pg.where = withholdValuesIn(pg.where).replace(/: "[^\n]*"/g, ': "…"');
  if (e instanceof ApplicationFailure && Object.getOwnPropertyDescriptor(e, 'details')?.enumerable) {
    Object.defineProperty(e, 'details', { value: e.details, enumerable: false, writable: true, configurable: true });
  }
  if (e.cause) withholdRowValues(e.cause, depth + 1);
  return e;
}

/** Whether a constraint's quoted values are keys, asked of the databases this activity reached. */
async function keyValuesInPinned(schema: string, table: string, constraint: string): Promise<boolean> {
  for (const url of pinnedUrls()) {
    const db = await connect(url, 'cutover:key-lookup').catch(() => null);
    if (!db) continue;
    try {
      const r = await db.query<{ key: boolean }>(KEY_VALUES_SQL, [schema, table, constraint]);
      if (r.rowCount) return r.rows[0].key === true;
    } catch {
      // cannot tell here: try the next database, else the values are withheld
    } finally {
      await db.end().catch(() => undefined);
    }
  }
  return false;
}

/** Temporal's attempt number of the running activity (1 outside one). */
function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/** The attempt number with a result (only past the first: results stay as they were) or a failure. */
function withAttempt(value: unknown, attempt: number): unknown {
  if (attempt > 1 && value && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype) {
    return { ...(value as object), [ATTEMPT_FIELD]: attempt };
  }
  return value;
}

function failureWithAttempt(e: unknown, attempt: number): unknown {
  if (e instanceof ApplicationFailure) {
    const marker: AttemptMarker = { activityAttempt: attempt };
    const details = [...(e.details ?? []), marker];
    Object.defineProperty(e, 'details', { value: details, enumerable: false, writable: true, configurable: true });
  }
  return e;
}

export class PgErrorInterceptor implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    return withAliasScope(async () => {
      try {
        const step = input.args[0] as Partial<StepInput> | undefined;
        if (step?.identities && typeof step.identities === 'object') await checkIdentities(step.identities);
        const value = await this.locked(step, () => next(input));
        countRowsMoved(value);
        return withAttempt(value, currentAttempt());
      } catch (e) {
        const failure = isPgError(e) ? await pgFailure(e, keyValuesInPinned) : e;
        throw failureWithAttempt(withholdRowValues(redactError(failure, pinnedUrls().flatMap(urlSecrets))), currentAttempt());
      }
    });
  }

  /** Long activities of a run (those that heartbeat) run under the run's step lock. */
  private async locked(step: Partial<StepInput> | undefined, fn: () => Promise<unknown>): Promise<unknown> {
    const ctx = Context.current();
    if (!ctx.info.heartbeatTimeoutMs || typeof step?.runKey !== 'string' || typeof step.plan?.source !== 'string') return fn();
    const lock = await takeStepLock(step.plan.source, stepLockName(step.runKey, ctx.info.activityType), ctx);
    try {
      return await fn();
    } finally {
      await releaseStepLock(lock);
    }
  }
}

/** For Worker.create({ interceptors }). */
export const activityInterceptors = [() => ({ inbound: new PgErrorInterceptor() })];
