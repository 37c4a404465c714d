// What every command gets: where to print, and a lazily opened Temporal connection.
import type { TemporalContext } from '../connection';
import { DEFAULT_CLI_TIMEOUT_MS, noServerError, noWorkerError, within, type AbortableClient } from '../deadline';
import type { ExitCode } from '../errors';
import type { Io } from '../io';

export interface CommandContext {
  io: Io;
  temporal: TemporalContext;
  env: Record<string, string | undefined>;
  /** Set by a command that finishes normally but with a non-zero outcome (e.g. --wait ended not completed). */
  exitCode: ExitCode;
  /** Stops long-running commands (codec-server) like SIGINT/SIGTERM would (tests). */
  signal?: AbortSignal;
  /** How long one call to Temporal may go unanswered (client/deadline.ts; default 30 s). */
  timeoutMs?: number;
}

export const printJson = (io: Io, value: unknown): void => io.out(JSON.stringify(value, null, 2));

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const timeoutOf = (ctx: CommandContext): number => ctx.timeoutMs ?? DEFAULT_CLI_TIMEOUT_MS;

/** A query or Update of a run: it needs a worker, so a silence past the timeout reads as "no worker". */
export function fromWorker<T>(
  ctx: CommandContext,
  client: AbortableClient,
  what: string,
  workflowId: string,
  call: () => Promise<T>,
): Promise<T> {
  const ms = timeoutOf(ctx);
  return within(client, ms, () => noWorkerError(what, workflowId, ms), call).catch((err: unknown) => {
    throw queryError(err, what, workflowId, ms);
  });
}

/** A call the server answers alone (start, list, describe). */
export function fromServer<T>(ctx: CommandContext, client: AbortableClient, what: string, call: () => Promise<T>): Promise<T> {
  const ms = timeoutOf(ctx);
  return within(client, ms, () => noServerError(what, ctx.temporal.settings?.address, ms), call);
}

/** The server's own "nobody polled" answers read as the same "no worker" message, not as an SDK error. */
export function queryError(err: unknown, what: string, workflowId: string, ms: number): unknown {
  const grpcCode = (err as { cause?: { code?: number } } | null)?.cause?.code;
  // 4 DEADLINE_EXCEEDED: no worker answered in time; 9 FAILED_PRECONDITION: no poller seen for the task queue.
  if (err instanceof Error && err.name === 'ServiceError' && (grpcCode === 4 || grpcCode === 9)) {
    const detail = (err as { cause?: Error }).cause?.message ?? err.message;
    return noWorkerError(what, workflowId, ms, detail);
  }
  return err;
}
