// A signal or update sent to a run at the moment it continues as new can reach the run that is
// closing and come back "workflow execution already completed", although the workflow goes on
// under the same id (seen under load in the hostile-signals flood test). Nothing was delivered then,
// so sending again to the workflow id reaches the new run. Likewise a signal the server refuses
// because this run has recorded all the signals it may (`history.maximumSignalsPerExecution`,
// common/history-budget.ts): the run continues as new at its next safe point (a gate, a pause,
// between steps; not while a step runs), and the signal is sent again to the new run. Anything
// else is the caller's to handle.
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';

const ATTEMPTS = 5;

/** How long a signal refused for the run's signal budget waits for the next run (a step may run meanwhile). */
const BUDGET_WAIT_MS = 120_000;

/** The server refused a signal: the run has recorded as many as it may. */
export function signalBudgetSpent(err: unknown): boolean {
  const words = (e: unknown): string => (e instanceof Error ? `${e.message} ${words((e as { cause?: unknown }).cause)}` : '');
  return /exceeded workflow execution limit for signal events/i.test(words(err));
}

/** `send()` again while it fails that way and the workflow id still has a running execution. */
export async function acrossContinueAsNew<T>(handle: WorkflowHandle, send: () => Promise<T>, budgetWaitMs = BUDGET_WAIT_MS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (attempt < ATTEMPTS && signalBudgetSpent(err) && (await nextRun(handle, budgetWaitMs))) continue;
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

/** Wait until the workflow id's current run is another (it continued as new) and still running; false when it did not in `timeoutMs`. */
async function nextRun(handle: WorkflowHandle, timeoutMs: number): Promise<boolean> {
  const first = await handle.describe().catch(() => null);
  if (!first || first.status.name !== 'RUNNING') return false;
  for (const until = Date.now() + timeoutMs; Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 200));
    const d = await handle.describe().catch(() => null);
    if (!d) return false;
    if (d.runId !== first.runId) return d.status.name === 'RUNNING';
  }
  return false;
}
