// Approval gates: wait for N-of-M approvals, a rejection, or the gate's timeout. Who may approve is
// decided by workflows/decisions.ts when the signal or update arrives; this only waits and records.
import { condition } from '@temporalio/workflow';
import { continueSuggested } from './continue';
import type { GateName } from '../common/temporal';
import { parseDuration } from '../plan/duration';
import type { RunOptions, RunStateRef } from './step-runner';

/**
 * Wait for N-of-M approvals, a rejection, or the gate's timeout (→ expired, nothing written).
 * Also stop waiting when Temporal suggests continuing as new (the history grew, e.g. from a flood
 * of signals): 'continue' leaves the gate open, its deadline kept in the state, and the next run of
 * the chain waits here again until the same deadline.
 */
export async function gate(ctl: RunStateRef & RunOptions, name: GateName): Promise<'approved' | 'rejected' | 'expired' | 'continue'> {
  const s = ctl.state;
  const { required, timeout } = s.plan.approvals;
  s.gate = name;
  s.status = 'awaiting-approval';
  s.phase = `gate:${name}`;
  ctl.publish();
  const decidedNow = () => s.approvalsFor(name).length >= required || s.rejection !== null;
  // Workflow time: deterministic, and the same deadline whichever run of the chain waits for it.
  const deadline = s.gateDeadline ?? Date.now() + parseDuration(timeout);
  s.gateDeadline = deadline;
  const decided = await condition(() => decidedNow() || continueSuggested(ctl), Math.max(1, deadline - Date.now()));
  if (!decidedNow() && decided) return 'continue';
  s.gateDeadline = null;
  s.gate = null;
  if (s.rejection) {
    s.status = 'rejected';
    s.record(`gate:${name}`, 'rejected', `by ${s.rejection.approver}: ${s.rejection.reason}`);
    return 'rejected';
  }
  if (!decided) {
    s.status = 'expired';
    s.record(`gate:${name}`, 'expired', `no ${required} approvals within ${timeout}`);
    return 'expired';
  }
  s.record(
    `gate:${name}`,
    'approved',
    s
      .approvalsFor(name)
      .map((a) => a.approver)
      .join(', '),
  );
  return 'approved';
}
