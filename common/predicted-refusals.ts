// What a dry run says publish will refuse, each with the reason an approver acknowledges it by
// (workflows/decisions.ts acknowledgeRefusal holds the rule; status shows the list at gate plan).
// Pure, shared by the workflow and the CLI.
import type { DryRunReport } from './results';

export interface PredictedRefusal {
  reason: string;
  why: string;
}

const COLLISION_WARNING = /: \d+ selected key\(s\) already exist in production \((ids: keep|after mapping)\): publish will refuse them$/;
/** The warning a predicted constraint conflict gets (activities/preflight/unique-conflicts.ts): acknowledged by its own reason. */
const CONFLICT_WARNING = /^\S+: (primary key|unique|unique index|exclusion) \S+ \(.*\): .*: publish will refuse them$/;

/**
 * Per table, keys already in production (`collisions:<table>`: the table's key, after mapping), each
 * other Production constraint the rows would break (`conflict:<table>:<constraint>`), and any other
 * dry-run warning that says a step will refuse (`warning:<n>`, numbered in the warnings' order).
 */
export function predictedRefusals(dry: DryRunReport | null | undefined): PredictedRefusal[] {
  if (!dry) return [];
  const out: PredictedRefusal[] = [];
  for (const t of dry.tables ?? []) {
    if (t.collisions > 0)
      out.push({
        reason: `collisions:${t.table}`,
        why: `${t.collisions} selected key(s) of ${t.table} already exist in production (after mapping): publish will refuse them`,
      });
    for (const c of t.conflicts ?? []) {
      if (c.kind === 'primary key' && t.collisions > 0) continue; // the same rows as the collisions
      out.push({
        reason: `conflict:${t.table}:${c.constraint}`,
        why: `${t.table}: ${c.kind} ${c.constraint} (${c.columns}): ${c.existing} row(s) production already holds, ${c.duplicates} repeated among the rows to insert: publish will refuse them`,
      });
    }
  }
  (dry.warnings ?? []).forEach((w, i) => {
    if (/\bwill refuse\b/.test(w) && !COLLISION_WARNING.test(w) && !CONFLICT_WARNING.test(w))
      out.push({ reason: `warning:${i + 1}`, why: w });
  });
  return out;
}
