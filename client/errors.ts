// Exit codes of the CLI (docs/operating.md, *The command line*): 0 ok, 1 refused/failed, 2 bad input.
// `describeError` maps anything thrown by a command to an exit code and the lines to print.

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_BAD_INPUT;

/** An error the CLI already knows how to present: one or more lines and an exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly lines: string[];
  constructor(message: string, exitCode: ExitCode = EXIT_FAILED, lines?: string[]) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.lines = lines ?? [`error: ${message}`];
  }
}

export const badInput = (message: string, lines?: string[]): CliError => new CliError(message, EXIT_BAD_INPUT, lines);
export const failed = (message: string, lines?: string[]): CliError => new CliError(message, EXIT_FAILED, lines);

/** Raised when the Temporal frontend cannot be reached. */
export class TemporalUnreachableError extends CliError {
  constructor(address: string, namespace: string, reason: string) {
    super(`cannot reach Temporal at ${address} (namespace ${namespace}): ${reason}`, EXIT_FAILED);
    this.name = 'TemporalUnreachableError';
  }
}

export interface PlanIssueLike {
  path?: string | (string | number)[];
  message: string;
  line?: number;
}

/** Duck-typed so it works whichever copy of plan/issues.ts threw it. */
export function isPlanError(err: unknown): err is Error & { issues: PlanIssueLike[] } {
  return err instanceof Error && Array.isArray((err as { issues?: unknown }).issues);
}

function issuePath(path: PlanIssueLike['path']): string {
  if (Array.isArray(path)) return path.length ? path.map(String).join('.') : '(plan)';
  return path && path.length ? path : '(plan)';
}

/** One line per issue: `file:line: path: message` (`file: path: message` when the line is unknown). */
export function planIssueLines(file: string, issues: PlanIssueLike[]): string[] {
  return issues.map((i) => `${file}${i.line !== undefined && i.line !== null ? `:${i.line}` : ''}: ${issuePath(i.path)}: ${i.message}`);
}

/** A bad plan file as a CliError (exit 2), naming the file, line and path of every issue. */
export function planFileError(file: string, err: unknown): CliError {
  if (isPlanError(err)) {
    const lines = err.issues.length ? planIssueLines(file, err.issues) : [`${file}: ${err.message}`];
    const n = err.issues.length;
    return badInput(`${file}: invalid plan`, [...lines, `error: invalid plan ${file}${n ? ` (${n} problem${n === 1 ? '' : 's'})` : ''}`]);
  }
  const message = err instanceof Error ? err.message : String(err);
  return badInput(`${file}: ${message}`, [`${file}: ${message}`]);
}

const HELP_CODES = new Set(['commander.helpDisplayed', 'commander.version']);

/** gRPC status codes we care about. */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

function causeMessage(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message) return cause.message;
  return err.message;
}

/** Map any error thrown by a command to the exit code and the lines to print on stderr. */
export function describeError(err: unknown): { exitCode: ExitCode; lines: string[] } {
  if (err instanceof CliError) return { exitCode: err.exitCode, lines: err.lines };
  if (!(err instanceof Error)) return { exitCode: EXIT_FAILED, lines: [`error: ${String(err)}`] };
  const code = (err as { code?: unknown }).code;
  // commander, with exitOverride: it has printed its own message already.
  if (typeof code === 'string' && code.startsWith('commander.')) {
    const exitCode = HELP_CODES.has(code) || (err as { exitCode?: number }).exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    return { exitCode, lines: [] };
  }
  if (isPlanError(err)) return { exitCode: EXIT_BAD_INPUT, lines: planIssueLines('plan', err.issues) };
  switch (err.name) {
    case 'TemporalConfigError': // runtime/config.ts: a missing Temporal config file or profile (`cutover worker`)
      return { exitCode: EXIT_BAD_INPUT, lines: [`error: ${err.message}`] };
    case 'WorkflowUpdateFailedError':
      return { exitCode: EXIT_FAILED, lines: [`refused: ${causeMessage(err)}`] };
    case 'WorkflowNotFoundError': {
      const id = (err as { workflowId?: string }).workflowId;
      return { exitCode: EXIT_FAILED, lines: [`no such cutover workflow${id ? ` ${id}` : ''}: ${err.message}`] };
    }
    case 'WorkflowExecutionAlreadyStartedError': {
      const id = (err as { workflowId?: string }).workflowId;
      return { exitCode: EXIT_FAILED, lines: [`a cutover with workflow id ${id ?? '?'} is already running`] };
    }
    case 'WorkflowFailedError':
      return { exitCode: EXIT_FAILED, lines: [`workflow failed: ${causeMessage(err)}`] };
    case 'QueryNotRegisteredError':
    case 'QueryRejectedError':
      return { exitCode: EXIT_FAILED, lines: [`query failed: ${err.message}`] };
    case 'ServiceError': {
      const grpcCode = (err as { cause?: { code?: number } }).cause?.code;
      if (grpcCode === GRPC_UNAVAILABLE) {
        return { exitCode: EXIT_FAILED, lines: [`error: cannot reach Temporal: ${causeMessage(err)}`] };
      }
      if (grpcCode === GRPC_DEADLINE_EXCEEDED) {
        return { exitCode: EXIT_FAILED, lines: [`error: Temporal did not answer in time: ${causeMessage(err)}`] };
      }
      return { exitCode: EXIT_FAILED, lines: [`error: Temporal: ${causeMessage(err)}`] };
    }
    default:
      return { exitCode: EXIT_FAILED, lines: [`error: ${err.message}`] };
  }
}
