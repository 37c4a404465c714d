// Who may approve, reject or resume, and when. Pure: returns the reason for a refusal, or null.
import { GATES, RESUME_ACTIONS, type ApproveInput, type RejectInput, type ResumeInput } from '../common/temporal';
import type { RunState } from './state';

const text = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

/** Free text (comments, reasons) is kept in the run's state and every status answer: at most 1 MB. */
const MAX_TEXT_BYTES = 1024 * 1024;

function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3; // a surrogate pair is 4 bytes
  }
  return n;
}

function textTooLong(field: string, v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const bytes = utf8Bytes(v);
  return bytes > MAX_TEXT_BYTES ? `${field} is too long: ${bytes} bytes, at most 1 MB` : null;
}

export function approveRefusal(s: RunState, input: ApproveInput): string | null {
  if (!input || typeof input !== 'object') return 'payload must be an object {gate, approver, comment?, planHash?}';
  const long = textTooLong('comment', input.comment);
  if (long) return long;
  if (!GATES.includes(input.gate)) return `gate must be one of ${GATES.join(', ')}`;
  if (!text(input.approver)) return 'approver is required';
  const gateProblem = gateRefusal(s, input.gate);
  if (gateProblem) return gateProblem;
  const { approvers, separationOfDuties } = s.plan.approvals;
  if (!approvers.includes(input.approver)) return `"${input.approver}" is not an approver of this plan (approvers: ${approvers.join(', ')})`;
  if (separationOfDuties && input.approver === s.initiatedBy) {
    return `separation of duties: "${input.approver}" initiated this run and cannot approve it`;
  }
  if (s.approvalsFor(input.gate).some((a) => a.approver === input.approver)) return `"${input.approver}" already approved gate "${input.gate}"`;
  if (input.planHash !== undefined && input.planHash !== s.planHash) {
    return `plan hash mismatch: you approved ${String(input.planHash)}, this run's plan is ${s.planHash}`;
  }
  return null;
}

export function rejectRefusal(s: RunState, input: RejectInput): string | null {
  if (!input || typeof input !== 'object') return 'payload must be an object {gate, approver, reason}';
  const long = textTooLong('reason', input.reason);
  if (long) return long;
  if (!GATES.includes(input.gate)) return `gate must be one of ${GATES.join(', ')}`;
  if (!text(input.approver)) return 'approver is required';
  if (!text(input.reason)) return 'reason is required';
  const gateProblem = gateRefusal(s, input.gate);
  if (gateProblem) return gateProblem;
  // The initiator may withdraw their own run; anyone else must be an approver.
  if (!s.plan.approvals.approvers.includes(input.approver) && input.approver !== s.initiatedBy) {
    return `"${input.approver}" is neither an approver of this plan nor its initiator`;
  }
  return null;
}

function gateRefusal(s: RunState, gate: string): string | null {
  if (s.gate === null) return `no gate is awaiting approval (status ${s.status}, phase ${s.phase})`;
  if (gate !== s.gate) return `wrong gate: "${gate}" is not awaiting approval, "${s.gate}" is`;
  return null;
}

/** Actions that exist in the workflow but whose behaviour lands with the safety-net work. */
const NOT_YET: Record<string, string> = {
  rollback: 'rollback is not available yet (it comes with the safety-net work): fix the cause and retry, or abort',
  'roll-forward': 'roll-forward is not available yet (it comes with the safety-net work): fix the cause and retry, or abort',
};

export function resumeRefusal(s: RunState, input: ResumeInput, skippable: boolean): string | null {
  if (!input || typeof input !== 'object') return 'payload must be an object {action, by, reason, fromStep?}';
  const long = textTooLong('reason', input.reason);
  if (long) return long;
  if (!RESUME_ACTIONS.includes(input.action)) return `action must be one of ${RESUME_ACTIONS.join(', ')}`;
  if (!text(input.by)) return 'by is required';
  if (!text(input.reason)) return 'reason is required';
  if (s.status !== 'paused') return `the run is not paused (status ${s.status})`;
  if (NOT_YET[input.action]) return NOT_YET[input.action];
  if (input.fromStep !== undefined) return 'fromStep applies to roll-forward only';
  if (input.action === 'skip' && !skippable) return `step "${s.phase}" cannot be skipped`;
  return null;
}
