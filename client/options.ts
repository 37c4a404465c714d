// Validation of ids and options, done locally before anything is sent (bad input → exit 2).
import { GATES, RESUME_ACTIONS, ROLLBACK_MODES, STATUSES, TERMINAL_STATUSES, workflowIdFor } from '../common/temporal';
import type { GateName, ResumeAction, RollbackMode, RunStatus } from '../common/temporal';
import { badInput } from './errors';

const WORKFLOW_PREFIX = workflowIdFor('');

/** `<id>` may be the plan id or the full workflow id. */
export function toWorkflowId(id: string): string {
  const trimmed = (id ?? '').trim();
  if (!trimmed) throw badInput('missing workflow id (plan id or cutover-<plan id>)');
  return trimmed.startsWith(WORKFLOW_PREFIX) ? trimmed : workflowIdFor(trimmed);
}

/** `--as` falls back to $USER, then $LOGNAME. */
export function resolveActor(as: string | undefined, env: Record<string, string | undefined> = process.env): string {
  const name = (as ?? env.USER ?? env.LOGNAME ?? '').trim();
  if (!name) throw badInput('who are you? pass --as NAME (neither $USER nor $LOGNAME is set)');
  return name;
}

function oneOf<T extends string>(what: string, allowed: readonly T[], value: string | undefined): T {
  if (value === undefined || !(allowed as readonly string[]).includes(value)) {
    throw badInput(`${what} must be one of ${allowed.join(', ')} (got ${value === undefined ? 'nothing' : JSON.stringify(value)})`);
  }
  return value as T;
}

export const parseGate = (value: string | undefined): GateName => oneOf('--gate', GATES, value);
export const parseAction = (value: string | undefined): ResumeAction => oneOf('--action', RESUME_ACTIONS, value);
export const parseRollbackMode = (value: string | undefined): RollbackMode => oneOf('--mode', ROLLBACK_MODES, value);
export const parseStatus = (value: string | undefined): RunStatus => oneOf('--status', STATUSES, value);

export const REPORT_FORMATS = ['md', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
export const parseReportFormat = (value: string | undefined): ReportFormat => oneOf('--format', REPORT_FORMATS, value);

/** A required free-text option (reason, comment): present and not blank. */
export function requireText(option: string, value: string | undefined): string {
  const text = (value ?? '').trim();
  if (!text) throw badInput(`${option} must not be empty`);
  return text;
}

export { TERMINAL_STATUSES };
export const isTerminal = (status: string): boolean => (TERMINAL_STATUSES as readonly string[]).includes(status);
