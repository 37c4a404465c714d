// Step code run inside another activity (the rehearsal runs stage, cleanup, publish, validate and
// rollback in-process) heartbeats through beat() and reads an earlier attempt's progress through
// previousHeartbeat(). Within a scope (withHeartbeatScope) each beat reaches the outer activity
// wrapped with what the outer activity is doing, and the step sees no heartbeat details of an
// earlier attempt (its work starts over); the outer activity's cancellation reaches it unchanged
// (it is the same Context). Our own AsyncLocalStorage: no hand-built SDK Context, no SDK internals.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from '@temporalio/activity';

interface Scope {
  wrap: (details: unknown) => unknown;
}

const scopes = new AsyncLocalStorage<Scope>();

/** `fn` with the step code's beats wrapped by `wrap` and no earlier attempt's details visible to it. */
export function withHeartbeatScope<T>(wrap: (details: unknown) => unknown, fn: () => Promise<T>): Promise<T> {
  return scopes.run({ wrap }, fn);
}

/** Heartbeat the activity `ctx` with the step's details (wrapped inside a scope). */
export function beat(ctx: Context, details: unknown): void {
  const scope = scopes.getStore();
  ctx.heartbeat(scope ? scope.wrap(details) : details);
}

/** The details of this activity's previous attempt's last heartbeat; none inside a scope (the step's work starts over). */
export function previousHeartbeat(ctx: Context): unknown {
  return scopes.getStore() ? undefined : ctx.info.heartbeatDetails;
}
