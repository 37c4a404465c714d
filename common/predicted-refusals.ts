// What a dry run says publish will refuse, each with the reason an approver acknowledges it by
// (workflows/decisions.ts acknowledgeRefusal holds the rule; status shows the list at gate plan).
// Pure, shared by the workflow and the CLI.
import type { DryRunReport } from './results';

export interface PredictedRefusal {
  reason: string;
  why: string;
}

const COLLISION_WARNING = /: \d+ selected key\(s\) already exist in production \((ids: keep|after mapping)\): publish will refuse them$/;

/**
 * Per table, keys already in production (ids: keep collisions: `collisions:<table>`), and any other
 * dry-run warning that says a step will refuse (`warning:<n>`, numbered in the warnings' order).
 */
export function predictedRefusals(dry: DryRunReport | null | undefined): PredictedRefusal[] {
  if (!dry) return [];
  const out: PredictedRefusal[] = (dry.tables ?? [])
    .filter((t) => t.collisions > 0)
    .map((t) => ({ reason: `collisions:${t.table}`, why: `${t.collisions} selected key(s) of ${t.table} already exist in production (after mapping): publish will refuse them` }));
  (dry.warnings ?? []).forEach((w, i) => {
    if (/\bwill refuse\b/.test(w) && !COLLISION_WARNING.test(w)) out.push({ reason: `warning:${i + 1}`, why: w });
  });
  return out;
}
