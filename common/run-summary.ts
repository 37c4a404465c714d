// The one-line summary of a run: what the CLI's start gives the Temporal UI as the static summary,
// and what the workflow itself puts first in its current details (a run started from the UI's
// form has no static summary). Shared so the two always read the same.

export interface RunSummaryPlan {
  id: string;
  strategy: string;
  source: string;
  target: string;
  tables: ReadonlyArray<unknown>;
}

export function runSummary(plan: RunSummaryPlan, initiatedBy: string): string {
  const n = plan.tables.length;
  return `cutover ${plan.id}: ${plan.strategy} ${plan.source} → ${plan.target} (${n} table${n === 1 ? '' : 's'}), initiated by ${initiatedBy}`;
}
