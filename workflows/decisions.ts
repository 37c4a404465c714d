// Who may approve, reject or resume, and when. Pure: returns the reason for a refusal, or null.
import { GATES, RESUME_ACTIONS, ROLLBACK_MODES, type ApproveInput, type RejectInput, type ResumeInput } from '../common/temporal';
import type { BackupObject } from '../common/results';
import { predictedRefusals } from '../common/predicted-refusals';
import { movedAlias } from '../common/failures';
import { approverNames } from '../plan/signers';
import type { RunState } from './state';

/** A name as a refusal quotes it: a 1 MB "name" is cut, so the reason stays readable. */
export const named = (name: string): string => `"${name.length > 80 ? `${name.slice(0, 80)}…` : name}"`;

const text = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

/**
 * Free text (comments, reasons) is kept in the run's state and every status answer: 4 KB is a page
 * of text, and 100 approvers × 3 gates of such comments still fit one status answer.
 */
export const MAX_TEXT_BYTES = 4 * 1024;

/** What each payload may carry, for refusing unknown fields and wrong types. */
const FIELDS: Record<'approve' | 'reject' | 'resume', Record<string, 'string' | 'strings'>> = {
  approve: {
    gate: 'string',
    approver: 'string',
    comment: 'string',
    planHash: 'string',
    rehearsalHash: 'string',
    signature: 'string',
    acknowledge: 'strings',
  },
  reject: { gate: 'string', approver: 'string', reason: 'string' },
  resume: {
    action: 'string',
    by: 'string',
    reason: 'string',
    fromStep: 'string',
    mode: 'string',
    signature: 'string',
    acceptDatabase: 'string',
  },
};

/** An unknown field or a field of the wrong type (the Temporal UI sends any JSON), or null. */
function shapeRefusal(kind: keyof typeof FIELDS, input: object): string | null {
  const fields = FIELDS[kind];
  for (const [k, v] of Object.entries(input)) {
    const want = fields[k];
    if (!want)
      return `unknown field ${JSON.stringify(k.length > 60 ? `${k.slice(0, 60)}…` : k)} (allowed: ${Object.keys(fields).join(', ')})`;
    if (want === 'strings') {
      if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) return `${k} must be a list of strings`;
      continue;
    }
    if (v !== undefined && typeof v !== want)
      return `${k} must be a ${want}, got ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`;
  }
  return null;
}

/** The checks every payload gets first: an object, the right fields and types, text within bounds. */
function payloadRefusal(kind: keyof typeof FIELDS, input: unknown, textField: string, shape: string): string | null {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return `payload must be an object ${shape}`;
  return shapeRefusal(kind, input) ?? textTooLong(textField, (input as Record<string, unknown>)[textField]);
}

function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3; // a surrogate pair is 4 bytes
  }
  return n;
}

function textTooLong(field: string, v: unknown, max = MAX_TEXT_BYTES): string | null {
  if (typeof v !== 'string') return null;
  // A string longer than 3 × max in UTF-16 units is too long whatever it holds: not worth counting.
  const bytes = v.length > 3 * max ? v.length : utf8Bytes(v);
  return bytes > max
    ? `${field} is too long: ${v.length > 3 * max ? `${bytes} characters` : `${bytes} bytes`}, at most ${max} bytes`
    : null;
}

const PAYLOADS = {
  approve: ['comment', '{gate, approver, comment?, planHash?, rehearsalHash?, acknowledge?}'],
  reject: ['reason', '{gate, approver, reason}'],
  resume: ['reason', '{action, by, reason, fromStep?, mode?, acceptDatabase?}'],
} as const;

/**
 * Why a payload is malformed (not an object, unknown fields, wrong types, text over its bound), or
 * null. The update validators refuse only this: garbage costs the run nothing (no history). A
 * well-formed decision that is refused (not an approver, a forged signature, the wrong gate) reaches
 * the handler, which records it: an auditor sees every attempt.
 */
export function malformedRefusal(kind: keyof typeof FIELDS, input: unknown): string | null {
  return payloadRefusal(kind, input, PAYLOADS[kind][0], PAYLOADS[kind][1]);
}

/**
 * While a step runs (status running: no gate waits, nothing is paused) every decision is refused;
 * the update validators answer it at once, so it writes no history. Signals are recorded whatever
 * they carry, and bounded by the server's signals per run (common/history-budget.ts).
 */
export function stepRunningRefusal(s: Pick<RunState, 'status' | 'phase' | 'gate'>): string | null {
  return s.status === 'running' && s.gate === null
    ? `a step is running (${s.phase}): nothing can be decided until it ends or pauses; this answer is not recorded`
    : null;
}

export function approveRefusal(s: RunState, input: ApproveInput): string | null {
  const bad = malformedRefusal('approve', input);
  if (bad) return bad;
  if (!GATES.includes(input.gate)) return `gate must be one of ${GATES.join(', ')}`;
  if (!text(input.approver)) return 'approver is required';
  const gateProblem = gateRefusal(s, input.gate);
  if (gateProblem) return gateProblem;
  const { separationOfDuties } = s.plan.approvals;
  const approvers = approverNames(s.plan);
  if (!approvers.includes(input.approver))
    return `${named(input.approver)} is not an approver of this plan (approvers: ${approvers.join(', ')})`;
  if (separationOfDuties && input.approver === s.initiatedBy) {
    return `separation of duties: "${input.approver}" initiated this run and cannot approve it`;
  }
  if (s.approvalsFor(input.gate).some((a) => a.approver === input.approver))
    return `"${input.approver}" already approved gate "${input.gate}"`;
  if (input.planHash !== undefined && input.planHash !== s.planHash) {
    return `plan hash mismatch: you approved ${String(input.planHash)}, this run's plan is ${s.planHash}`;
  }
  if (input.rehearsalHash !== undefined) {
    const r = s.results.rehearsal;
    if (!r) return 'this run has no rehearsal report: approve without a rehearsal hash';
    if (input.rehearsalHash !== r.rehearsalHash)
      return `stale rehearsal hash: you reviewed ${String(input.rehearsalHash)}, this run's rehearsal report is ${r.rehearsalHash}`;
  }
  return acknowledgeRefusal(s, input);
}

/**
 * Gate plan of a dry run that predicts refusals: the approval must acknowledge each by its reason
 * (`acknowledge`), and only those.
 */
export function acknowledgeRefusal(s: RunState, input: ApproveInput): string | null {
  if (input.gate !== 'plan') return null;
  const acknowledged = input.acknowledge ?? [];
  if (!Array.isArray(acknowledged) || !acknowledged.every((a) => typeof a === 'string')) return 'acknowledge must be a list of strings';
  const predicted = predictedRefusals(s.results.preflight);
  const unknown = acknowledged.filter((a) => !predicted.some((p) => p.reason === a));
  if (unknown.length) {
    const list = predicted.length ? `it predicts: ${predicted.map((p) => p.reason).join(', ')}` : 'it predicts none';
    return `acknowledge ${unknown.map((a) => named(a)).join(', ')}: the dry run predicts no such refusal (${list})`;
  }
  const missing = predicted.filter((p) => !acknowledged.includes(p.reason));
  if (!missing.length) return null;
  return (
    `the dry run predicts ${missing.length === predicted.length ? '' : 'more '}refusals: approving needs an explicit acknowledgement of each ` +
    `(cutover approve … ${missing.map((p) => `--acknowledge ${p.reason}`).join(' ')}; payload acknowledge: [${missing.map((p) => JSON.stringify(p.reason)).join(', ')}]): ` +
    missing.map((p) => `${p.reason}: ${p.why}`).join('; ')
  );
}

export function rejectRefusal(s: RunState, input: RejectInput): string | null {
  const bad = malformedRefusal('reject', input);
  if (bad) return bad;
  if (!GATES.includes(input.gate)) return `gate must be one of ${GATES.join(', ')}`;
  if (!text(input.approver)) return 'approver is required';
  if (!text(input.reason)) return 'reason is required';
  const gateProblem = gateRefusal(s, input.gate);
  if (gateProblem) return gateProblem;
  // The initiator may withdraw their own run; anyone else must be an approver.
  if (!approverNames(s.plan).includes(input.approver) && input.approver !== s.initiatedBy) {
    return `${named(input.approver)} is neither an approver of this plan nor its initiator`;
  }
  return null;
}

function gateRefusal(s: RunState, gate: string): string | null {
  if (s.gate === null) return `no gate is awaiting approval (status ${s.status}, phase ${s.phase})`;
  if (gate !== s.gate) return `wrong gate: "${gate}" is not awaiting approval, "${s.gate}" is`;
  return null;
}

/**
 * Whether on-call's resume decision is accepted now. After publish has committed, abort is refused
 * (it would leave this run's rows in production): the choices are rollback or roll-forward.
 */
export function resumeRefusal(s: RunState, input: ResumeInput, skippable: boolean): string | null {
  const bad = malformedRefusal('resume', input);
  if (bad) return bad;
  if (!RESUME_ACTIONS.includes(input.action)) return `action must be one of ${RESUME_ACTIONS.join(', ')}`;
  if (!text(input.by)) return 'by is required';
  if (!text(input.reason)) return 'reason is required';
  if (s.status !== 'paused') return `the run is not paused (status ${s.status})`;
  if (input.fromStep !== undefined && input.action !== 'roll-forward') return 'fromStep applies to roll-forward only';
  if (input.mode !== undefined && input.action !== 'rollback') return 'mode applies to rollback only';
  if (input.acceptDatabase !== undefined) {
    if (input.action !== 'retry') return 'acceptDatabase applies to retry only';
    const moved = movedAlias(s.error);
    if (moved === null)
      return `acceptDatabase: the run did not pause because a database moved (${s.error ? `${s.error.type}: ${s.error.message.slice(0, 200)}` : 'no error'}); retry without it`;
    if (input.acceptDatabase !== moved)
      return `acceptDatabase: the database that moved is alias ${named(moved)}, not ${named(input.acceptDatabase)}`;
  }
  // A step with a compensation has committed (publish; a clean-start's decommission) and nothing was undone yet.
  const committed = s.undoable.length > 0 ? s.undoable : s.results.publish !== undefined ? ['publish'] : [];
  const published = committed.length > 0 && s.results.rollback === undefined && s.results['adopt-restore'] === undefined;
  switch (input.action) {
    case 'abort':
      if (published) return `${committed.join(', ')} has committed: abort would leave its effect in place; choose rollback or roll-forward`;
      return null;
    case 'skip':
      return skippable ? null : `step "${s.phase}" cannot be skipped`;
    case 'retry':
      return null;
    case 'rollback': {
      if (!published)
        return 'nothing to roll back: no step with an undo has committed (publish, decommission, adopt-cleanup); retry, skip or abort';
      if (input.mode !== undefined && !(ROLLBACK_MODES as readonly string[]).includes(input.mode))
        return `mode must be one of ${ROLLBACK_MODES.join(', ')}`;
      const mode = input.mode ?? 'surgical';
      if (mode === 'surgical' && s.phase === 'rollback') return 'the surgical rollback is what paused: retry it, or choose mode restore';
      if (mode === 'restore' && !verifiedTargetBackup(s))
        return 'restore from the backup is not available in this run: it needs a verified backup of the target (plan backup.store)';
      if (mode === 'restore' && s.phase === 'restore') return 'the restore is what paused: retry it, or choose mode surgical';
      return null;
    }
    case 'roll-forward': {
      const targets = s.rollForwardTargets;
      if (targets.length === 0) return 'nothing to roll forward from here';
      if (input.fromStep === undefined) return `fromStep is required: one of ${targets.join(', ')}`;
      if (!targets.includes(input.fromStep)) return `cannot roll forward from "${input.fromStep}": choose one of ${targets.join(', ')}`;
      return null;
    }
  }
  return null;
}

/** The run's target backup, when the backup step verified it (re-read sha256 equal to the one written). */
export function verifiedTargetBackup(s: RunState): BackupObject | undefined {
  return s.results.backup?.backups.find((b) => b.kind === 'target' && b.verified.sha256 === b.sha256);
}

/** Every resume action accepted now, with the first step a roll-forward may start from. */
export function offeredActions(s: RunState, skippable: boolean): string[] {
  return RESUME_ACTIONS.filter((action) => {
    const probe: ResumeInput = {
      action,
      by: '-',
      reason: '-',
      ...(action === 'roll-forward' ? { fromStep: s.rollForwardTargets[0] } : {}),
    };
    // rollback is on offer when either mode is (a blocked surgical rollback still offers restore).
    return (
      resumeRefusal(s, probe, skippable) === null ||
      (action === 'rollback' && resumeRefusal(s, { ...probe, mode: 'restore' }, skippable) === null)
    );
  });
}
