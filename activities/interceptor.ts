// Activity interceptor registered by every worker the project builds: a PostgreSQL error leaving an
// activity becomes a failure that carries the server's own detail and says whether a retry can
// help (activities/db/pg-errors.ts). One place, so no step can forget it.
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { isPgError, pgFailure } from './db/pg-errors';

export class PgErrorInterceptor implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (e) {
      throw isPgError(e) ? pgFailure(e) : e;
    }
  }
}

/** For Worker.create({ interceptors }). */
export const activityInterceptors = [() => ({ inbound: new PgErrorInterceptor() })];
