// A signal or update sent to a run at the moment it continues as new can reach the run that is
// closing and come back "workflow execution already completed", although the workflow goes on
// under the same id (seen under load in the hostile-signals flood test). Nothing was delivered then,
// so sending again to the workflow id reaches the new run. Anything else is the caller's to handle.
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';

const ATTEMPTS = 5;

/** `send()` again while it fails that way and the workflow id still has a running execution. */
export async function acrossContinueAsNew<T>(handle: WorkflowHandle, send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (attempt >= ATTEMPTS || !(err instanceof WorkflowNotFoundError) || !/already completed/i.test(err.message)) throw err;
      const running = await handle.describe().then(
        (d) => d.status.name === 'RUNNING',
        () => false,
      );
      if (!running) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
