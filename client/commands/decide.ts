// `cutover approve|reject|resume`: sent as Updates so a refusal comes back at once (exit 1, reason on stderr).
// With --sign, the run's status is queried first (run key, plan hash, rehearsal hash, pause number)
// and the exact Signatures v2 message (common/signing.ts) signed with ssh-keygen.
import type { UpdateDefinition } from '@temporalio/client';
import { approvalMessage, resumeMessage } from '../../common/signing';
import { approveUpdate, rejectUpdate, resumeUpdate, statusQuery } from '../../common/temporal';
import type { ApproveInput, RejectInput, ResumeInput, StatusView, UpdateResult } from '../../common/temporal';
import { failed } from '../errors';
import { parseAction, parseGate, parseRollbackMode, requireText, resolveActor, toWorkflowId } from '../options';
import { keyFileOption, sshSign } from '../sign';
import type { CommandContext } from './context';
import { fromWorker, printJson } from './context';
import { acrossContinueAsNew } from '../across-continue';

export interface ApproveOptions {
  gate?: string;
  as?: string;
  comment?: string;
  planHash?: string;
  rehearsalHash?: string;
  /** Predicted refusals acknowledged (--acknowledge, repeatable). */
  acknowledge?: string[];
  sign?: string;
  json?: boolean;
}
export interface RejectOptions {
  gate?: string;
  as?: string;
  reason?: string;
  json?: boolean;
}
export interface ResumeOptions {
  action?: string;
  as?: string;
  reason?: string;
  from?: string;
  mode?: string;
  acceptDatabase?: string;
  sign?: string;
  json?: boolean;
}

/** Local validation first (exit 2), so nothing malformed ever reaches the workflow. */
export function approveInput(opts: ApproveOptions, env: Record<string, string | undefined>): ApproveInput {
  const input: ApproveInput = { gate: parseGate(opts.gate), approver: resolveActor(opts.as, env) };
  if (opts.comment !== undefined) input.comment = requireText('--comment', opts.comment);
  if (opts.planHash !== undefined) input.planHash = requireText('--plan-hash', opts.planHash);
  if (opts.rehearsalHash !== undefined) input.rehearsalHash = requireText('--rehearsal-hash', opts.rehearsalHash);
  if (opts.acknowledge?.length) input.acknowledge = opts.acknowledge.map((a) => requireText('--acknowledge', a));
  return input;
}

export function rejectInput(opts: RejectOptions, env: Record<string, string | undefined>): RejectInput {
  return { gate: parseGate(opts.gate), approver: resolveActor(opts.as, env), reason: requireText('--reason', opts.reason) };
}

export function resumeInput(opts: ResumeOptions, env: Record<string, string | undefined>): ResumeInput {
  const input: ResumeInput = {
    action: parseAction(opts.action),
    by: resolveActor(opts.as, env),
    reason: requireText('--reason', opts.reason),
  };
  if (opts.from !== undefined) input.fromStep = requireText('--from', opts.from);
  if (opts.mode !== undefined) input.mode = parseRollbackMode(opts.mode);
  if (opts.acceptDatabase !== undefined) input.acceptDatabase = requireText('--accept-database', opts.acceptDatabase);
  return input;
}

async function send<I>(
  ctx: CommandContext,
  id: string,
  update: UpdateDefinition<UpdateResult, [I]>,
  input: I,
  verb: string,
  json: boolean | undefined,
): Promise<void> {
  const workflowId = toWorkflowId(id);
  const client = await ctx.temporal.client();
  const handle = client.workflow.getHandle(workflowId);
  let result: UpdateResult;
  try {
    // An Update waits for a worker to take it: bounded, so no worker means a clear error, not a hang.
    result = await fromWorker(ctx, client, verb, workflowId, () =>
      acrossContinueAsNew(handle, () => handle.executeUpdate(update, { args: [input] })),
    );
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowUpdateFailedError') {
      const reason = (err as { cause?: Error }).cause?.message || err.message;
      throw failed(`${verb} refused: ${reason}`, [`${workflowId}: ${verb} refused: ${reason}`]);
    }
    throw err;
  }
  if (json) printJson(ctx.io, { workflowId, ...result });
  else ctx.io.out(`${workflowId}: ${verb} accepted — status ${result.status}, gate ${result.gate ?? '-'}`);
}

/** The running workflow's status: its run key, plan hash, rehearsal and pause, what a signature commits to. */
async function runStatus(ctx: CommandContext, workflowId: string): Promise<StatusView> {
  const client = await ctx.temporal.client();
  return fromWorker(ctx, client, 'status query', workflowId, () => client.workflow.getHandle(workflowId).query(statusQuery));
}

export async function approve(ctx: CommandContext, id: string, opts: ApproveOptions): Promise<void> {
  const input = approveInput(opts, ctx.env);
  const workflowId = toWorkflowId(id);
  if (opts.sign !== undefined) {
    const keyFile = keyFileOption(opts.sign);
    // Signed over the hashes the approver reviewed when given (a run with another plan or rehearsal refuses it anyway).
    const status = await runStatus(ctx, workflowId);
    const planHash = input.planHash ?? status.planHash;
    const rehearsalHash = input.rehearsalHash ?? status.rehearsal?.rehearsalHash ?? null;
    input.signature = sshSign(
      keyFile,
      approvalMessage({ workflowId, runKey: status.runKey, gate: input.gate, planHash, rehearsalHash, round: status.approvalRound }),
      ctx.env,
    );
  }
  await send(ctx, id, approveUpdate, input, `approve (gate ${input.gate})`, opts.json);
}

export async function reject(ctx: CommandContext, id: string, opts: RejectOptions): Promise<void> {
  const input = rejectInput(opts, ctx.env);
  toWorkflowId(id);
  await send(ctx, id, rejectUpdate, input, `reject (gate ${input.gate})`, opts.json);
}

export async function resume(ctx: CommandContext, id: string, opts: ResumeOptions): Promise<void> {
  const input = resumeInput(opts, ctx.env);
  const workflowId = toWorkflowId(id);
  if (opts.sign !== undefined) {
    const keyFile = keyFileOption(opts.sign);
    const status = await runStatus(ctx, workflowId);
    const message = resumeMessage({
      workflowId,
      runKey: status.runKey,
      pause: status.pause ?? 0,
      planHash: status.planHash,
      resume: input,
    });
    input.signature = sshSign(keyFile, message, ctx.env);
  }
  await send(ctx, id, resumeUpdate, input, `resume (${input.action})`, opts.json);
}
