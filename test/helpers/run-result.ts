// A run's result whatever its outcome: completed runs return it, runs that ended rejected, expired,
// aborted or rolled back close as Failed with it in the failure's details (common/outcome.ts).
// Any other failure is thrown as handle.result() throws it.
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { isOutcomeFailureType } from '../../common/outcome';

export async function runResult<H extends WorkflowHandle>(handle: H): Promise<Awaited<ReturnType<H['result']>>> {
  try {
    return (await handle.result()) as Awaited<ReturnType<H['result']>>;
  } catch (e) {
    const cause = (e instanceof WorkflowFailedError ? e.cause : undefined) as { type?: string; details?: unknown[] } | undefined;
    if (cause && isOutcomeFailureType(cause.type) && cause.details?.[0]) return cause.details[0] as Awaited<ReturnType<H['result']>>;
    throw e;
  }
}
