// Signal, update and query handlers. Each decision is a pure "why refused, or null" function in
// workflows/decisions.ts, shared by the signal (which records a refusal) and the update (which also
// answers with it at once). Updates are checked by a validator first: a malformed payload (anyone
// with access may send any JSON from the UI) is answered at once and never enters the run's history;
// a well-formed decision that is refused (not an approver, forged signature, wrong gate) reaches the
// handler, which records the attempt for the auditors and answers with the refusal.
import { ApplicationFailure, setDefaultSignalHandler, setHandler } from '@temporalio/workflow';
import {
  approveSignal,
  approveUpdate,
  rejectSignal,
  rejectUpdate,
  reportQuery,
  resumeSignal,
  resumeUpdate,
  statusQuery,
  type UpdateResult,
} from '../common/temporal';
import { approveRefusal, malformedRefusal, rejectRefusal, resumeRefusal, stepRunningRefusal } from './decisions';
import { approvalSignature, resumeAuthorization } from './signatures';
import { now } from './state';

/** A refusal's reason may quote the payload (a 1 MB approver name): the answer carries at most 2 KB of it. */
function cutReason(why: string): string {
  return why.length <= 2048 ? why : `${why.slice(0, 2048)}… [cut: ${why.length} characters in all]`;
}
import type { DecisionInbox, RunStateRef } from './step-runner';

/** The handlers see the run state and put on-call's decisions into the inbox; they never run a step. */
export function installHandlers(ctl: RunStateRef & DecisionInbox): void {
  const s = ctl.state;
  const refuse = (signal: 'approve' | 'reject' | 'resume', by: unknown, reason: string, input: unknown) => {
    s.refuse({ signal, by: typeof by === 'string' ? by : '?', reason, at: now(), input });
    ctl.publish();
  };
  const result = (): UpdateResult => ({ accepted: true, status: s.status, gate: s.gate });

  // Each returns the refusal reason or null; the signal records it, the update also answers with it.
  const approve = (i: Parameters<typeof approveRefusal>[1]) => {
    const why = approveRefusal(s, i);
    if (why) return (refuse('approve', i?.approver, why, i), why);
    const signed = approvalSignature(s, i);
    if (signed.refused) return (refuse('approve', i.approver, signed.refused, i), signed.refused);
    if (signed.digest) s.acceptedSignatures.push(signed.digest);
    const acknowledged = i.acknowledge?.length ? { acknowledged: [...i.acknowledge] } : {};
    s.approvals.push({
      gate: i.gate,
      approver: i.approver,
      ...(i.comment ? { comment: i.comment } : {}),
      ...acknowledged,
      at: now(),
      ...(signed.signature ? { signature: signed.signature } : {}),
    });
    ctl.publish();
    return null;
  };
  const reject = (i: Parameters<typeof rejectRefusal>[1]) => {
    const why = rejectRefusal(s, i);
    if (why) return (refuse('reject', i?.approver, why, i), why);
    s.rejection = { gate: i.gate, approver: i.approver, reason: i.reason, at: now() };
    return null;
  };
  const resume = (i: Parameters<typeof resumeRefusal>[1]) => {
    // Who first (an operator, signed when the plan requires it), then whether the action fits now.
    const signed = resumeAuthorization(s, i);
    const why =
      signed.refused ?? resumeRefusal(s, i, ctl.skippable) ?? (ctl.pendingResume ? 'a resume decision is already being applied' : null);
    if (why) return (refuse('resume', i?.by, why, i), why);
    if (signed.digest) s.acceptedSignatures.push(signed.digest);
    ctl.pendingResume = i;
    ctl.pendingSignature = signed.signature;
    return null;
  };
  // A refusal is an answer, not a crash: no stack trace (the UI would show the worker's file paths under the reason).
  const refusal = (why: string) => {
    const failure = ApplicationFailure.create({ type: 'Refused', message: cutReason(why), nonRetryable: true });
    failure.stack = '';
    return failure;
  };
  const asUpdate =
    <I>(fn: (i: I) => string | null) =>
    (i: I): UpdateResult => {
      const why = fn(i);
      if (why) throw refusal(why);
      return result();
    };
  // Only the payload's form (a validator must not change state, and what it refuses is not recorded),
  // and whether anything can be decided at all: while a step runs, no gate waits and nothing is
  // paused, so every decision would be refused; answered here, a flood of them during a long step
  // writes no history (the run does not continue as new inside a step: workflows/continue.ts).
  const validator =
    (kind: 'approve' | 'reject' | 'resume') =>
    (i: unknown): void => {
      const reason = malformedRefusal(kind, i) ?? stepRunningRefusal(s);
      if (reason) throw refusal(reason);
    };

  // Every signal counts against the run's budget (the server records only so many per run), of any
  // name: one the workflow does not know is dropped, but it filled the history all the same.
  const counted =
    <I>(fn: (i: I) => unknown) =>
    (i: I): void => {
      ctl.signalsThisRun = (ctl.signalsThisRun ?? 0) + 1;
      void fn(i);
    };
  setHandler(approveSignal, counted(approve));
  setHandler(rejectSignal, counted(reject));
  setHandler(resumeSignal, counted(resume));
  setDefaultSignalHandler(counted(() => undefined));
  setHandler(approveUpdate, asUpdate(approve), { validator: validator('approve') });
  setHandler(rejectUpdate, asUpdate(reject), { validator: validator('reject') });
  setHandler(resumeUpdate, asUpdate(resume), { validator: validator('resume') });
  setHandler(statusQuery, () => s.statusView());
  setHandler(reportQuery, () => s.evidence());
}
