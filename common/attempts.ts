// Temporal's own attempt number of a step's activity, carried to the workflow so the evidence counts
// the attempts that really ran (a step Temporal retried twice says 3, not 1). The activity
// interceptor adds it to a result (only when it is not the first attempt, so results stay as they
// were otherwise) or as the last detail of a failure; the workflow reads and removes it. Pure.

/** The field a result object carries, and the shape of the failure detail that carries it. */
export const ATTEMPT_FIELD = 'activityAttempt';

export interface AttemptMarker {
  activityAttempt: number;
}

export function isAttemptMarker(v: unknown): v is AttemptMarker {
  return (
    !!v &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as AttemptMarker).activityAttempt === 'number'
  );
}

/** The attempt a result carries (removing it from the result), or undefined. */
export function takeAttempt(value: unknown): number | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const n = (value as Record<string, unknown>)[ATTEMPT_FIELD];
  if (typeof n !== 'number') return undefined;
  delete (value as Record<string, unknown>)[ATTEMPT_FIELD];
  return n;
}

/** The attempt a failure's details carry (the last detail), or undefined. */
export function attemptInDetails(details: readonly unknown[] | undefined | null): number | undefined {
  const last = details?.[details.length - 1];
  return isAttemptMarker(last) ? last.activityAttempt : undefined;
}
