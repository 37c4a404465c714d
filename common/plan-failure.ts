// One shape for a refused plan, wherever it is refused. In-process it is PlanError (plan/issues.ts):
// a list of issues {path, message, line?}, its message one `path: message` line per issue. Across
// Temporal (an activity, the workflow) it is an ApplicationFailure of type PlanError carrying that
// same message and, as its details, the same issues, so the CLI prints a catalog refusal from
// `plan check --connect` exactly as it prints a refusal of the plan file.
import { ApplicationFailure } from '@temporalio/common';
import { PlanError, type PlanIssue } from '../plan/issues';

/** The refusal as a final (non-retryable) failure: the run pauses, or refuses to start, on it. */
export function planFailure(refusal: PlanError | PlanIssue | PlanIssue[]): ApplicationFailure {
  const err = refusal instanceof PlanError ? refusal : new PlanError(Array.isArray(refusal) ? refusal : [refusal]);
  return ApplicationFailure.create({ type: 'PlanError', message: err.message, nonRetryable: true, details: [err.issues] });
}

const isIssue = (x: unknown): x is PlanIssue =>
  !!x && typeof x === 'object' && typeof (x as PlanIssue).path === 'string' && typeof (x as PlanIssue).message === 'string';

/** The issues a PlanError failure carries (its first detail), or null for any other failure. */
export function planIssuesOf(failure: unknown): PlanIssue[] | null {
  if (!failure || typeof failure !== 'object' || (failure as { type?: unknown }).type !== 'PlanError') return null;
  const first = (failure as { details?: unknown[] }).details?.[0];
  return Array.isArray(first) && first.length > 0 && first.every(isIssue) ? first : null;
}
