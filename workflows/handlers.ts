// Signal, update and query handlers. Each decision is a pure "why refused, or null" function in
// workflows/decisions.ts, shared by the signal (which records a refusal) and the update (which also
// answers with it at once).
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import {
  approveSignal, approveUpdate, rejectSignal, rejectUpdate, reportQuery, resumeSignal, resumeUpdate, statusQuery, type UpdateResult,
} from '../common/temporal';
import { approveRefusal, rejectRefusal, resumeRefusal } from './decisions';
import { approvalSignature, resumeAuthorization } from './signatures';
import { now } from './state';
import type { StepControl } from './step-runner';

export function installHandlers(ctl: StepControl): void {
  const s = ctl.state;
  const refuse = (signal: 'approve' | 'reject' | 'resume', by: unknown, reason: string, input: unknown) => {
    s.refuse({ signal, by: typeof by === 'string' ? by : '?', reason, at: now(), input });
    ctl.publish();
  };
  const result = (): UpdateResult => ({ accepted: true, status: s.status, gate: s.gate });

  // Each returns the refusal reason or null; the signal records it, the update also answers with it.
  const approve = (i: Parameters<typeof approveRefusal>[1]) => {
    const why = approveRefusal(s, i);
    if (why) return refuse('approve', i?.approver, why, i), why;
    const signed = approvalSignature(s, i);
    if (signed.refused) return refuse('approve', i.approver, signed.refused, i), signed.refused;
    s.approvals.push({ gate: i.gate, approver: i.approver, ...(i.comment ? { comment: i.comment } : {}), at: now(), ...(signed.signature ? { signature: signed.signature } : {}) });
    ctl.publish();
    return null;
  };
  const reject = (i: Parameters<typeof rejectRefusal>[1]) => {
    const why = rejectRefusal(s, i);
    if (why) return refuse('reject', i?.approver, why, i), why;
    s.rejection = { gate: i.gate, approver: i.approver, reason: i.reason, at: now() };
    return null;
  };
  const resume = (i: Parameters<typeof resumeRefusal>[1]) => {
    // Who first (an operator, signed when the plan requires it), then whether the action fits now.
    const signed = resumeAuthorization(s, i);
    const why = signed.refused ?? resumeRefusal(s, i, ctl.skippable) ?? (ctl.pendingResume ? 'a resume decision is already being applied' : null);
    if (why) return refuse('resume', i?.by, why, i), why;
    ctl.pendingResume = i;
    ctl.pendingSignature = signed.signature;
    return null;
  };
  const asUpdate = <I>(fn: (i: I) => string | null) => (i: I): UpdateResult => {
    const why = fn(i);
    if (why) {
      // A refusal is an answer, not a crash: no stack trace (the UI would show the worker's file paths under the reason).
      const refusal = ApplicationFailure.create({ type: 'Refused', message: why, nonRetryable: true });
      refusal.stack = '';
      throw refusal;
    }
    return result();
  };

  setHandler(approveSignal, (i) => void approve(i));
  setHandler(rejectSignal, (i) => void reject(i));
  setHandler(resumeSignal, (i) => void resume(i));
  setHandler(approveUpdate, asUpdate(approve));
  setHandler(rejectUpdate, asUpdate(reject));
  setHandler(resumeUpdate, asUpdate(resume));
  setHandler(statusQuery, () => s.statusView());
  setHandler(reportQuery, () => s.evidence());
}
