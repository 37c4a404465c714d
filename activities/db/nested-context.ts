// Runs step code inside another activity (a rehearsal runs stage, cleanup, publish, validate and
// rollback in-process) under a context of its own: the step code heartbeats through
// Context.current() as always, and each beat reaches the outer activity wrapped with what the
// outer activity is doing; the step sees no heartbeat details of an earlier attempt (its work
// starts over), and the outer activity's cancellation (signal and promise) reaches it unchanged.
import { asyncLocalStorage, Context } from '@temporalio/activity';

type Ctor = new (...args: unknown[]) => Context;

/** `fn` under a nested context; outside an activity (tests, scripts) it just runs. */
export function inNestedContext<T>(wrap: (details: unknown) => unknown, fn: () => Promise<T>): Promise<T> {
  let outer: Context;
  try {
    outer = Context.current();
  } catch {
    return fn();
  }
  const internal = outer as unknown as { _client: unknown; _cancellationDetails: unknown };
  const nested = new (Context as unknown as Ctor)(
    { ...outer.info, heartbeatDetails: undefined },
    outer.cancelled,
    outer.cancellationSignal,
    (details: unknown) => outer.heartbeat(wrap(details)),
    internal._client,
    outer.log,
    outer.metricMeter,
    internal._cancellationDetails,
  );
  return asyncLocalStorage.run(nested, fn);
}
