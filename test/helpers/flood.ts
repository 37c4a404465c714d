// Floods of refused signals for the continue-as-new tests. A run survives any volume of signals
// only as fast as its worker can continue it as new: each continuation takes one workflow task, so
// a burst must fit between the server's suggestion and its error limit (docs/reliability.md says so). On a
// loaded CI machine a worker may take seconds per task, so the sender keeps each run's history
// below half the error limit — waiting, when it gets there, for the run to continue as new — while
// the total it sends is still several times what one run may hold.
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { acrossContinueAsNew } from '../../client/across-continue';

/** Wait while the current run's history is at or over `bytes` (it continues as new soon). */
export async function belowHistory(handle: WorkflowHandle, bytes: number, timeoutMs = 120000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING' || (d.historySize ?? 0) < bytes) return;
    if (Date.now() > until)
      throw new Error(`the run's history stayed at ${d.historySize} bytes (≥ ${bytes}) for ${timeoutMs} ms: it did not continue as new`);
    await sleep(200);
  }
}

/** Send `count` signals made by `signal(i)`, keeping each run's history under half `errorLimit`. */
export async function pacedFlood(
  handle: WorkflowHandle,
  count: number,
  errorLimit: number,
  signal: (i: number) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (i % 5 === 0) await belowHistory(handle, errorLimit / 2);
    await acrossContinueAsNew(handle, () => signal(i));
  }
}
