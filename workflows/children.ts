// Long steps run as child workflows, so that the run may continue as new while one runs (a flood of
// signals grew its history: workflows/step-runner.ts) without touching it: the child is started with
// ParentClosePolicy.ABANDON and runs on when the run closes; the run awaits its outcome through the
// awaitStep activity (activities/await-step.ts), and a later run of the chain that runs the same
// step again with the same input finds the child in the carried state and awaits that one instead
// of starting another. Only public Temporal APIs; each child's retries, heartbeats, progress and
// pause (`temporal activity pause`) are Temporal's own.
import { CancellationScope, getExternalWorkflowHandle, isCancellation, ParentClosePolicy, startChild, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import type { CutoverActivities } from '../common/activities';
import { canonicalJson } from '../plan/canonical';
import { sha256Hex } from '../plan/sha256';
import { relay } from './proxies';

/** A child the run awaits: its workflow id, and what it was started for (workflow type, name, input), hashed. */
export interface InFlightChild {
  id: string;
  key: string;
}

/** What the run's state carries of its children (RunState: continue-as-new carries it on). */
export interface ChildLedger {
  inFlight: InFlightChild[];
  childSeq: number;
}

/** The child workflow types (Temporal names: additions to the contract's cutoverMigration). */
export const STEP_CHILD = 'cutoverStep';
export const REHEARSAL_CHILD = 'cutoverRehearsal';

let ledger: ChildLedger | null = null;
/** Children this run started (an earlier run's are reached by id only). */
const started = new Map<string, ChildWorkflowHandle<(arg: unknown) => Promise<unknown>>>();

/** The run's state, where the children are kept (once, when the run starts). */
export function bindChildren(s: ChildLedger): void {
  ledger = s;
}

/**
 * Run `arg` in a child of type `workflowType` (one started by an earlier run of the chain for the
 * same thing if it is still awaited), and return its result or throw its failure as the step's.
 */
export async function inChild(workflowType: typeof STEP_CHILD | typeof REHEARSAL_CHILD, name: string, arg: unknown, within?: 'rehearsal'): Promise<unknown> {
  const s = ledger;
  if (!s) throw new Error('inChild: bindChildren was not called');
  // As the carried state will hold it (a continued run's input went through JSON), keys sorted.
  const key = sha256Hex(canonicalJson(JSON.parse(JSON.stringify([workflowType, name, arg]))));
  let entry = s.inFlight.find((c) => c.key === key);
  if (!entry) {
    const info = workflowInfo();
    // Unique per run (a reset run or a continued one starts its own), readable in the UI's list.
    entry = { id: `${info.workflowId}/${info.runId.slice(0, 8)}/${++s.childSeq}-${name}`, key };
    s.inFlight.push(entry); // before it starts: a run that continues meanwhile still knows it
    try {
      const child = await startChild<(arg: unknown) => Promise<unknown>>(workflowType, { workflowId: entry.id, args: [arg], parentClosePolicy: ParentClosePolicy.ABANDON });
      void child.result().catch(() => undefined); // its outcome is awaited below, in this run or the next
      started.set(entry.id, child);
    } catch (e) {
      s.inFlight = s.inFlight.filter((c) => c !== entry);
      throw e;
    }
  }
  const awaited = entry;
  try {
    return await relay.awaitStep({ workflowId: awaited.id, ...(within ? { within } : {}) });
  } catch (e) {
    // The run itself is cancelled: so is its child (abandoned only to a continue-as-new, which never
    // gets here), and the run ends once the child has (a rehearsal drops its scratch database first).
    // One this run started got the cancellation from Temporal with the run's; an earlier run's is asked here.
    if (isCancellation(e)) {
      const own = started.get(awaited.id);
      await CancellationScope.nonCancellable(() => (own ? own.result() : getExternalWorkflowHandle(awaited.id).cancel())).catch(() => undefined);
    }
    throw e;
  } finally {
    s.inFlight = s.inFlight.filter((c) => c !== awaited);
  }
}

/** The long steps' activities, each run in its own child workflow (workflows/step-child.ts). */
export const long = new Proxy({} as CutoverActivities, {
  get: (_target, name) => (input: unknown) => inChild(STEP_CHILD, String(name), { activity: String(name), input }),
});
