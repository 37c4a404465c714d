// How a run that did not succeed closes: rejected, expired, aborted and rolled-back runs end as
// Failed (so the Temporal UI's runs list never shows them as a green success), with a typed
// ApplicationFailure naming the status and the run's whole result — status view and evidence — as
// its details. The CLI (status, report, list, start --wait) reads that result as it reads a
// completed run's.

export const UNSUCCESSFUL_OUTCOMES = ['rejected', 'expired', 'aborted', 'rolled-back'] as const;
export type UnsuccessfulOutcome = (typeof UNSUCCESSFUL_OUTCOMES)[number];

export const isUnsuccessfulOutcome = (status: string): status is UnsuccessfulOutcome =>
  (UNSUCCESSFUL_OUTCOMES as readonly string[]).includes(status);

/** `CutoverRejected`, `CutoverExpired`, `CutoverAborted`, `CutoverRolledBack`. */
export function outcomeFailureType(status: UnsuccessfulOutcome): string {
  return `Cutover${status
    .split('-')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('')}`;
}

const TYPES = new Set(UNSUCCESSFUL_OUTCOMES.map(outcomeFailureType));
export const isOutcomeFailureType = (type: unknown): boolean => typeof type === 'string' && TYPES.has(type);

/** The run's result carried by a closed-as-Failed run's failure (what handle.result() threw), or undefined. */
export function outcomeResult(e: unknown): unknown {
  const cause = (e as { cause?: { type?: unknown; details?: unknown[] } } | null)?.cause;
  return cause && isOutcomeFailureType(cause.type) ? cause.details?.[0] : undefined;
}
