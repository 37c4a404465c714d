// What every command gets: where to print, and a lazily opened Temporal connection.
import type { TemporalContext } from '../connection';
import { TASK_QUEUE } from '../../common/temporal';
import { failed } from '../errors';
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
}

export const printJson = (io: Io, value: unknown): void => io.out(JSON.stringify(value, null, 2));

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A query that no worker answered in time reads as "no worker", not as an unreachable server. */
export function queryError(err: unknown, workflowId: string): unknown {
  const grpcCode = (err as { cause?: { code?: number } } | null)?.cause?.code;
  // 4 DEADLINE_EXCEEDED: no worker answered in time; 9 FAILED_PRECONDITION: no poller seen for the task queue.
  if (err instanceof Error && err.name === 'ServiceError' && (grpcCode === 4 || grpcCode === 9)) {
    const detail = (err as { cause?: Error }).cause?.message ?? err.message;
    return failed(`no worker answered the query for ${workflowId} (${detail}) — is \`cutover worker\` running on task queue ${TASK_QUEUE}?`);
  }
  return err;
}
