// Approval gates: wait for N-of-M approvals, a rejection, or the gate's timeout. Who may approve is
// decided by workflows/decisions.ts when the signal or update arrives; this only waits and records.
import { condition } from '@temporalio/workflow';
import type { GateName } from '../common/temporal';
import { parseDuration } from '../plan/duration';
import type { StepControl } from './step-runner';

/** Wait for N-of-M approvals, a rejection, or the gate's timeout (→ expired, nothing written). */
export async function gate(ctl: StepControl, name: GateName): Promise<'approved' | 'rejected' | 'expired'> {
  const s = ctl.state;
  const { required, timeout } = s.plan.approvals;
  s.gate = name;
  s.status = 'awaiting-approval';
  s.phase = `gate:${name}`;
  ctl.publish();
  const decided = await condition(() => s.approvalsFor(name).length >= required || s.rejection !== null, parseDuration(timeout));
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
  s.record(`gate:${name}`, 'approved', s.approvalsFor(name).map((a) => a.approver).join(', '));
  return 'approved';
}

