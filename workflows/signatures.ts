// Signed decisions and who may resume. Pure, deterministic "why refused" functions (like
// decisions.ts) that the signal and update handlers share: an SSH signature sent with an approval
// or a resume is verified here, in the workflow sandbox, against the person's key in the plan,
// over the Signatures v2 message (common/signing.ts) for this run, this decision and this plan.
// With `approvals.signatures: required` an unsigned approval or resume is refused; otherwise a
// signature is optional, but one that is sent is always verified (and refused when it fails).
// A signature is accepted once per run: the handler keeps its digest (RunState.acceptedSignatures).
import {
  approvalMessage,
  approvalMessageV1,
  resumeMessage,
  resumeMessageV1,
  SIGNING_NAMESPACE,
  type ApprovalSubject,
  type ResumeSubject,
} from '../common/signing';
import { RESUME_ACTIONS, type ApproveInput, type ResumeInput, type SignatureEvidence } from '../common/temporal';
import { sha256Bytes } from '../plan/sha256';
import { operatorNames, signaturesRequired, signerKey } from '../plan/signers';
import { parseSshSignature, signatureVerifies } from '../plan/ssh/sshsig';
import { bytesEqual, type Ed25519PublicKey } from '../plan/ssh/wire';
import { named } from './decisions';
import type { RunState } from './state';

/**
 * Refused with a reason, or accepted: with what the signature proved and its digest (for the
 * handler to keep, so the same signature is not accepted again in this run) when there was one.
 */
export type SignatureCheck =
  { refused: string; signature?: undefined; digest?: undefined } | { refused?: undefined; signature?: SignatureEvidence; digest?: string };

const text = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

/** What an approval at `gate` signs in this run now (the CLI builds the same from `status`). */
export function approvalSubject(s: RunState, gate: string): ApprovalSubject {
  return {
    workflowId: s.ids.workflowId,
    runKey: s.ids.runKey,
    gate,
    planHash: s.planHash,
    rehearsalHash: s.results.rehearsal?.rehearsalHash ?? null,
    round: s.approvalRound(),
  };
}

/** What a resume signs in this run now: the pause it answers and every field of the decision. */
export function resumeSubject(s: RunState, input: ResumeInput): ResumeSubject {
  const { action, fromStep, mode, reason, acceptDatabase } = input;
  return {
    workflowId: s.ids.workflowId,
    runKey: s.ids.runKey,
    pause: s.pauses,
    planHash: s.planHash,
    resume: { action, fromStep, mode, reason, acceptDatabase },
  };
}

/** After approveRefusal() passed (a listed approver, the open gate): the approval's signature. */
export function approvalSignature(s: RunState, input: ApproveInput): SignatureCheck {
  const subject = approvalSubject(s, input.gate);
  return checkSignature(s, input.signature, {
    who: input.approver,
    key: signerKey(s.plan.approvals.approvers, input.approver),
    keyPath: 'approvals.approvers',
    message: approvalMessage(subject),
    v1: approvalMessageV1(subject),
    decision: `approval (run ${subject.workflowId}, run key ${subject.runKey}, gate ${subject.gate})`,
    sendWith: `cutover approve … --gate ${input.gate} --sign KEYFILE`,
  });
}

/**
 * Who may resume: when the plan names `operators`, only they (anyone may when it does not). Then
 * the resume's signature. A malformed payload passes here: resumeRefusal() says what is missing.
 */
export function resumeAuthorization(s: RunState, input: ResumeInput): SignatureCheck {
  if (!input || typeof input !== 'object' || !text(input.by)) return {};
  const operators = operatorNames(s.plan);
  if (operators && !operators.includes(input.by)) {
    return { refused: `${named(input.by)} is not an operator of this plan: only ${operators.join(', ')} may resume it` };
  }
  if (!RESUME_ACTIONS.includes(input.action)) return {};
  const subject = resumeSubject(s, input);
  return checkSignature(s, input.signature, {
    who: input.by,
    key: signerKey(s.plan.operators, input.by),
    keyPath: 'operators',
    message: resumeMessage(subject),
    v1: resumeMessageV1(subject),
    decision: `resume (run ${subject.workflowId}, run key ${subject.runKey}, pause ${subject.pause}, action ${input.action})`,
    sendWith: `cutover resume … --action ${input.action} --sign KEYFILE`,
  });
}

interface Expected {
  who: string;
  /** Their key in the plan: undefined when the plan does not list them there, null when it lists them without a key. */
  key: Ed25519PublicKey | null | undefined;
  keyPath: string;
  /** The v2 message: the only one accepted. */
  message: string;
  /** The same decision's v1 message: recognised only to refuse it by name. */
  v1: string;
  decision: string;
  sendWith: string;
}

function checkSignature(s: RunState, signature: unknown, e: Expected): SignatureCheck {
  const bytes = `ssh-keygen -Y sign -n ${SIGNING_NAMESPACE} over exactly ${JSON.stringify(e.message)}`;
  if (signature === undefined || signature === null) {
    if (!signaturesRequired(s.plan)) return {};
    return {
      refused: `signature required: this plan requires every ${e.decision.split(' ')[0]} to be signed by ${e.who}'s key (${e.sendWith}, or ${bytes})`,
    };
  }
  if (!e.key) {
    return {
      refused: `signature cannot be verified: ${e.keyPath} in the plan has no key for "${e.who}" (send it unsigned, or add the key to the plan)`,
    };
  }
  const sig = parseSshSignature(signature as string);
  if (typeof sig === 'string') return { refused: `signature refused: ${sig}` };
  if (sig.namespace !== SIGNING_NAMESPACE) {
    return {
      refused: `signature refused: made for namespace "${sig.namespace}", not "${SIGNING_NAMESPACE}" (ssh-keygen -Y sign -n ${SIGNING_NAMESPACE})`,
    };
  }
  if (!bytesEqual(sig.publicKey.blob, e.key.blob)) {
    return {
      refused: `signature refused: signed with key ${sig.publicKey.fingerprint}, but ${e.who}'s key in the plan is ${e.key.fingerprint}`,
    };
  }
  // Ed25519 signatures are deterministic and verified strictly (one valid form): the digest names it.
  const digest = sha256Bytes(sig.signature);
  if (s.acceptedSignatures.includes(digest)) {
    return {
      refused: `signature refused: this signature was already accepted in this run (a replay); every decision is signed anew (${e.sendWith})`,
    };
  }
  if (!signatureVerifies(sig, e.message)) {
    if (signatureVerifies(sig, e.v1)) {
      return {
        refused: `signature refused: it is a v1 signature (${e.v1.split('\n')[0]}), which names no run key or decision and is no longer accepted: sign the v2 message (${e.sendWith}, or ${bytes})`,
      };
    }
    return {
      refused: `signature refused: it does not verify over this ${e.decision}: it was made for another run, gate, pause, action, field or plan hash (a replay), or altered; ${bytes}`,
    };
  }
  return { signature: { verified: true, fingerprint: sig.publicKey.fingerprint }, digest };
}
