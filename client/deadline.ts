// No silent waits: every call the CLI makes to Temporal is bounded (default 30 s, `--timeout` or
// CUTOVER_CLI_TIMEOUT), and one that nobody answers in time fails with one clear message. An Update
// or a query needs a worker (the server holds it until one polls: an unsigned `approve` once hung
// for 11 minutes); listing, starting and describing need the server alone.
import { TASK_QUEUE } from '../common/temporal';
import { badInput, failed, type CliError } from './errors';

/** A Client or WorkflowClient: what can cancel its calls. */
export interface AbortableClient {
  withAbortSignal<R>(signal: AbortSignal, fn: () => Promise<R>): Promise<R>;
}

export const DEFAULT_CLI_TIMEOUT_MS = 30_000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** `30`, `30s`, `1500ms`, `2m` (a bare number is seconds); the option wins over the environment. */
export function cliTimeoutMs(option: string | undefined, env: Record<string, string | undefined>): number {
  const [raw, from] = option !== undefined ? [option, '--timeout'] : [env.CUTOVER_CLI_TIMEOUT, 'CUTOVER_CLI_TIMEOUT'];
  if (raw === undefined || raw.trim() === '') return DEFAULT_CLI_TIMEOUT_MS;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2] ?? 's'] : NaN;
  if (!Number.isFinite(ms) || ms <= 0)
    throw badInput(`${from} must be a duration such as 30, 30s, 1500ms or 2m (got ${JSON.stringify(raw)})`);
  return Math.round(ms);
}

const seconds = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
const longer = 'wait longer with --timeout or CUTOVER_CLI_TIMEOUT';

/** The one message for "a worker was needed and none answered". */
export function noWorkerError(what: string, workflowId: string, ms: number, detail?: string): CliError {
  return failed(
    `no worker answered the ${what} for ${workflowId} within ${seconds(ms)}${detail ? ` (${detail})` : ''} — is \`cutover worker\` running on task queue ${TASK_QUEUE}? (${longer})`,
  );
}

/** The one message for "the server did not answer". */
export function noServerError(what: string, address: string | undefined, ms: number): CliError {
  return failed(
    `Temporal${address ? ` at ${address}` : ''} did not answer the ${what} within ${seconds(ms)} — is the server up and reachable? (${longer})`,
  );
}

/** `call()` with the client's calls cancelled after `ms`; then `onTimeout()` is thrown instead of waiting on. */
export async function within<T>(client: AbortableClient, ms: number, onTimeout: () => Error, call: () => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(onTimeout());
      abort.abort();
    }, ms);
  });
  try {
    return await Promise.race([client.withAbortSignal(abort.signal, call), expired]);
  } finally {
    clearTimeout(timer);
  }
}
