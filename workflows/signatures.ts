// Signed decisions and who may resume. Pure, deterministic "why refused" functions (like
// decisions.ts) that the signal and update handlers share: an SSH signature sent with an approval
// or a resume is verified here, in the workflow sandbox, against the person's key in the plan.
// With `approvals.signatures: required` an unsigned approval or resume is refused; otherwise a
// signature is optional, but one that is sent is always verified (and refused when it fails).
import { approvalMessage, resumeMessage, signedResumeAction, SIGNING_NAMESPACE } from '../common/signing';
import { parseSshSignature, signatureVerifies } from '../plan/ssh/sshsig';
import { bytesEqual, type Ed25519PublicKey } from '../plan/ssh/wire';
import { RESUME_ACTIONS, type ApproveInput, type ResumeInput, type SignatureEvidence } from '../common/temporal';
import { operatorNames, signaturesRequired, signerKey } from '../plan/signers';
import { named } from './decisions';
import type { RunState } from './state';

/** Refused with a reason, or accepted (with what the signature proved, when there was one). */
export type SignatureCheck = { refused: string; signature?: undefined } | { refused?: undefined; signature?: SignatureEvidence };

const text = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

/** After approveRefusal() passed (a listed approver, the open gate): the approval's signature. */
export function approvalSignature(s: RunState, input: ApproveInput): SignatureCheck {
  const message = approvalMessage(s.ids.workflowId, input.gate, s.planHash);
  return checkSignature(s, input.signature, {
    who: input.approver,
    key: signerKey(s.plan.approvals.approvers, input.approver),
    keyPath: 'approvals.approvers',
    message,
    decision: `approval (run ${s.ids.workflowId}, gate ${input.gate}, plan hash ${s.planHash})`,
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
  return checkSignature(s, input.signature, {
    who: input.by,
    key: signerKey(s.plan.operators, input.by),
    keyPath: 'operators',
    message: resumeMessage(s.ids.workflowId, signedResumeAction(input), s.planHash),
    decision: `resume (run ${s.ids.workflowId}, action ${input.action}, plan hash ${s.planHash})`,
    sendWith: `cutover resume … --action ${input.action} --sign KEYFILE`,
  });
}

interface Expected {
  who: string;
  /** Their key in the plan: undefined when the plan does not list them there, null when it lists them without a key. */
  key: Ed25519PublicKey | null | undefined;
  keyPath: string;
  message: string;
  decision: string;
  sendWith: string;
}

function checkSignature(s: RunState, signature: unknown, e: Expected): SignatureCheck {
  if (signature === undefined || signature === null) {
    if (!signaturesRequired(s.plan)) return {};
    return { refused: `signature required: this plan requires every ${e.decision.split(' ')[0]} to be signed by ${e.who}'s key (${e.sendWith}, or ssh-keygen -Y sign -n ${SIGNING_NAMESPACE} over ${JSON.stringify(e.message)})` };
  }
  if (!e.key) {
    return { refused: `signature cannot be verified: ${e.keyPath} in the plan has no key for "${e.who}" (send it unsigned, or add the key to the plan)` };
  }
  const sig = parseSshSignature(signature as string);
  if (typeof sig === 'string') return { refused: `signature refused: ${sig}` };
  if (sig.namespace !== SIGNING_NAMESPACE) {
    return { refused: `signature refused: made for namespace "${sig.namespace}", not "${SIGNING_NAMESPACE}" (ssh-keygen -Y sign -n ${SIGNING_NAMESPACE})` };
  }
  if (!bytesEqual(sig.publicKey.blob, e.key.blob)) {
    return { refused: `signature refused: signed with key ${sig.publicKey.fingerprint}, but ${e.who}'s key in the plan is ${e.key.fingerprint}` };
  }
  if (!signatureVerifies(sig, e.message)) {
    return { refused: `signature refused: it does not verify over this ${e.decision}: it was made for another run, gate, action or plan hash (a replay), or altered` };
  }
  return { signature: { verified: true, fingerprint: sig.publicKey.fingerprint } };
}
