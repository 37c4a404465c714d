// What an approver or operator signs: the exact messages, shared by the CLI (which has ssh-keygen
// sign them) and the workflow (which verifies them). Each names the run, the decision and the plan
// hash, so a signature made for another run, gate, action or plan does not verify here (a replay).
import type { GateName, ResumeAction } from './temporal';

/** The SSHSIG namespace: `ssh-keygen -Y sign -n cutover`. A signature for git or anything else does not count. */
export const SIGNING_NAMESPACE = 'cutover';

/** `cutover-approval:v1\n<workflowId>\n<gate>\n<planHash>\n` */
export const approvalMessage = (workflowId: string, gate: GateName | string, planHash: string): string =>
  `cutover-approval:v1\n${workflowId}\n${gate}\n${planHash}\n`;

/**
 * What a resume signs as its action: the action, and for a retry that accepts a moved database
 * `retry accept-database <alias>` (a signed plain retry cannot be turned into one).
 */
export const signedResumeAction = (input: { action: string; acceptDatabase?: string }): string =>
  input.acceptDatabase === undefined ? input.action : `${input.action} accept-database ${input.acceptDatabase}`;

/** `cutover-resume:v1\n<workflowId>\n<action>\n<planHash>\n` */
export const resumeMessage = (workflowId: string, action: ResumeAction | string, planHash: string): string =>
  `cutover-resume:v1\n${workflowId}\n${action}\n${planHash}\n`;
