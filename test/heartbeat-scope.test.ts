// The rehearsal runs step code inside its own activity: the step's beats must reach the rehearsal's
// activity marked with what it is doing, and the step must not take the rehearsal's earlier attempt's
// heartbeat for its own (activities/db/heartbeat-scope.ts, which replaced a hand-built SDK Context).
// Temporal's own mock activity environment (public API of @temporalio/testing), no server needed.
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { beat, previousHeartbeat, withHeartbeatScope } from '../activities/db/heartbeat-scope';

test("outside a scope a beat is the step's own and the previous attempt's details are visible", async () => {
  const env = new MockActivityEnvironment({ heartbeatDetails: { table: 'accounts', rowsCopied: 7 } });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const seen = await env.run(async () => {
    beat(Context.current(), { step: 'stage' });
    return previousHeartbeat(Context.current());
  });
  expect(beats).toEqual([{ step: 'stage' }]);
  expect(seen).toEqual({ table: 'accounts', rowsCopied: 7 });
});

test('inside a scope each beat is wrapped for the outer activity, and no earlier attempt is visible to the step', async () => {
  const env = new MockActivityEnvironment({ heartbeatDetails: { rehearsal: 'publish' } });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const seen = await env.run(() =>
    withHeartbeatScope(
      (d) => ({ within: 'rehearsal', step: d }),
      async () => {
        // Across an await, as step code beats from timers and query callbacks.
        await new Promise((r) => setTimeout(r, 5));
        beat(Context.current(), { step: 'stage' });
        return { previous: previousHeartbeat(Context.current()), cancelled: Context.current().cancellationSignal.aborted };
      },
    ),
  );
  expect(beats).toEqual([{ within: 'rehearsal', step: { step: 'stage' } }]);
  expect(seen).toEqual({ previous: undefined, cancelled: false });
});

test("the outer activity's cancellation reaches the step code inside a scope", async () => {
  const env = new MockActivityEnvironment();
  const run = env.run(() =>
    withHeartbeatScope(
      (d) => d,
      () =>
        new Promise<string>((resolve) => {
          Context.current().cancellationSignal.addEventListener('abort', () => resolve('cancelled'));
        }),
    ),
  );
  env.cancel();
  await expect(run).resolves.toBe('cancelled');
});
