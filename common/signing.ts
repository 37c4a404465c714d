// What an approver or operator signs (Signatures v2): the exact messages, shared by the CLI (which
// has ssh-keygen sign them) and the workflow (which verifies them). Each names the run (workflow id
// and the run key, which a new run of the same plan does not share), the decision (gate and
// reviewed rehearsal; or the pause and every field of the resume) and the plan hash, so a signature
// made for another run, gate, pause, action, field or plan does not verify (a replay).
import { canonicalJson } from '../plan/canonical';
import type { GateName, ResumeInput } from './temporal';

/** The SSHSIG namespace: `ssh-keygen -Y sign -n cutover`. A signature for git or anything else does not count. */
export const SIGNING_NAMESPACE = 'cutover';

export interface ApprovalSubject {
  workflowId: string;
  runKey: string;
  gate: GateName | string;
  planHash: string;
  /** The rehearsal report the approval covers, when the run has one (signed as "-" otherwise). */
  rehearsalHash?: string | null;
  /**
   * Which round of approvals: 1 until a drift (the Pilot changed after gate plan) reopens the gates,
   * then 2, 3 … An approval of a later round signs one more line, `round <n>`, so a signature of the
   * voided round (Ed25519 signs the same bytes the same way) cannot count again.
   */
  round?: number;
}

/** `cutover-approval:v2\n<workflowId>\n<runKey>\n<gate>\n<planHash>\n<rehearsalHash or ->\n`, then `round <n>\n` from round 2 on. */
export const approvalMessage = (a: ApprovalSubject): string =>
  `cutover-approval:v2\n${a.workflowId}\n${a.runKey}\n${a.gate}\n${a.planHash}\n${a.rehearsalHash ?? '-'}\n${(a.round ?? 1) > 1 ? `round ${a.round}\n` : ''}`;

export interface ResumeSubject {
  workflowId: string;
  runKey: string;
  /** Which of the run's pauses this decision answers (counted from 1, across continue-as-new). */
  pause: number;
  planHash: string;
  resume: Pick<ResumeInput, 'action' | 'fromStep' | 'mode' | 'reason' | 'acceptDatabase'>;
}

/** The resume's fields other than its action, as signed: canonical JSON (sorted keys, absent fields left out). */
export const resumeFields = (r: ResumeSubject['resume']): string =>
  canonicalJson({ fromStep: r.fromStep, mode: r.mode, reason: r.reason, acceptDatabase: r.acceptDatabase });

/** `cutover-resume:v2\n<workflowId>\n<runKey>\n<pause>\n<action>\n<canonical JSON of fromStep, mode, reason, acceptDatabase>\n<planHash>\n` */
export const resumeMessage = (r: ResumeSubject): string =>
  `cutover-resume:v2\n${r.workflowId}\n${r.runKey}\n${r.pause}\n${r.resume.action}\n${resumeFields(r.resume)}\n${r.planHash}\n`;

/**
 * The v1 messages (run and decision unnamed: replayable). Never accepted; the workflow only
 * recognises a v1 signature to say that v2 is needed.
 */
export const approvalMessageV1 = (a: ApprovalSubject): string => `cutover-approval:v1\n${a.workflowId}\n${a.gate}\n${a.planHash}\n`;
export const resumeMessageV1 = (r: ResumeSubject): string => {
  const action = r.resume.acceptDatabase === undefined ? r.resume.action : `${r.resume.action} accept-database ${r.resume.acceptDatabase}`;
  return `cutover-resume:v1\n${r.workflowId}\n${action}\n${r.planHash}\n`;
};
