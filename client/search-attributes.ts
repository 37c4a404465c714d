// Typed keys for cutover's Keyword search attributes (docs/operating.md, *The command line*).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { SearchAttributePair } from '@temporalio/common';
import { isUnsuccessfulOutcome } from '../common/outcome';
import { SEARCH_ATTRIBUTES } from '../common/temporal';

export const CutoverStatusKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.status, SearchAttributeType.KEYWORD);
export const CutoverPhaseKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.phase, SearchAttributeType.KEYWORD);
export const CutoverPlanIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.planId, SearchAttributeType.KEYWORD);
export const CutoverChangeKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.change, SearchAttributeType.KEYWORD);

/** The attributes a run starts with (the workflow upserts them as it moves on). */
export function initialSearchAttributes(planId: string, change?: string): SearchAttributePair[] {
  return [
    { key: CutoverStatusKey, value: 'running' },
    { key: CutoverPhaseKey, value: 'preflight' },
    { key: CutoverPlanIdKey, value: planId },
    ...(change ? [{ key: CutoverChangeKey, value: change }] : []),
  ];
}

/** Shown by `list`: the cutover status, flagged when the execution itself ended otherwise (terminated, timed out…). */
export function listStatus(cutoverStatus: string | undefined, executionStatus: string): string {
  const exec = executionStatus.toLowerCase();
  if (!cutoverStatus) return exec;
  if (executionStatus === 'RUNNING' || executionStatus === 'COMPLETED' || exec === cutoverStatus) return cutoverStatus;
  // Runs that did not succeed close as Failed on purpose (common/outcome.ts): their status says it all.
  if (executionStatus === 'FAILED' && isUnsuccessfulOutcome(cutoverStatus)) return cutoverStatus;
  return `${cutoverStatus} (execution ${exec})`;
}
