// The rehearsal's counts against the approved dry run's, table by table: what approvers approved at
// gate plan is the dry run, what they approve at gate cutover is the rehearsal, so any difference
// between the two is shown with why it can arise (the Pilot changed since the dry run, a register
// changed, Production changed) rather than left for them to spot. Pure: used by the rehearsal
// activity (the comparison is part of the report and its hash) and readable by status and reports.
import type { Plan } from '../plan/schema';
import type { RehearsalTable, TableDryRun } from './results';

/** The dry run's counts the rehearsal is compared with (what the workflow passes to the activity). */
export type DryRunCounts = Pick<TableDryRun, 'table' | 'inScope' | 'toMove' | 'merged' | 'leftBehind'>;

export interface ComparedCounts {
  inScope: number;
  moved: number;
  merged: number;
  leftBehind: Record<string, number>;
}

export interface RehearsalComparison {
  /** Every table's counts are the dry run's. */
  equal: boolean;
  tables: { table: string; equal: boolean; dryRun: ComparedCounts | null; rehearsal: ComparedCounts | null; why: string | null }[];
  /** One sentence per table that differs: the numbers and the likely cause. Empty when equal. */
  differences: string[];
}

const reasonsText = (r: Record<string, number>) =>
  Object.entries(r)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';
const countsText = (c: ComparedCounts) =>
  `in scope ${c.inScope}, moved ${c.moved}, merged ${c.merged}, left behind ${reasonsText(c.leftBehind)}`;

/** Why a table's counts can differ, in words, from the plan's rules and which counts moved. */
function explain(plan: Plan, d: ComparedCounts, r: ComparedCounts): string {
  const why: string[] = [];
  if (d.inScope !== r.inScope)
    why.push(`the Pilot changed since the dry run (rows its selection picks: ${d.inScope} then, ${r.inScope} at the rehearsal)`);
  const reasons = new Set([...Object.keys(d.leftBehind), ...Object.keys(r.leftBehind)]);
  const testReasons = new Set((plan.testData ?? []).map((t) => t.reason));
  const registers = plan.erasure?.registers ?? [];
  for (const reason of [...reasons].sort()) {
    const [a, b] = [d.leftBehind[reason] ?? 0, r.leftBehind[reason] ?? 0];
    if (a === b) continue;
    const n = `${a} then, ${b} at the rehearsal`;
    if (reason === 'erasure-request') {
      const sides = [
        registers.some((x) => x.db === 'target') ? "Production's" : '',
        registers.some((x) => x.db === 'source') ? "the Pilot's" : '',
      ]
        .filter(Boolean)
        .join(' or ');
      why.push(`erasure requests changed since the dry run in ${sides || 'the'} register(s) (${n})`);
    } else if (reason === 'no-consent') why.push(`the Pilot's consent register changed since the dry run (${n})`);
    else if (testReasons.has(reason)) why.push(`the Pilot's test data changed since the dry run (${reason}: ${n})`);
    else if (reason.startsWith('parent-left-behind')) why.push(`rows left behind upstream changed, cascading here (${reason}: ${n})`);
    else why.push(`rows left behind as ${reason} changed (${n})`);
  }
  if (d.merged !== r.merged)
    why.push(
      `Production changed since the dry run: rows matched to existing Production rows (merged) ${d.merged} then, ${r.merged} at the rehearsal`,
    );
  if (why.length === 0)
    why.push(
      'no change of the Pilot, the registers or Production explains it: the dry run predicted what the data path does not do; report it before approving',
    );
  return why.join('; ');
}

export function compareWithDryRun(plan: Plan, dry: DryRunCounts[], rehearsal: RehearsalTable[]): RehearsalComparison {
  const names = [...new Set([...dry.map((t) => t.table), ...rehearsal.map((t) => t.table)])];
  const tables = names.map((table) => {
    const dt = dry.find((t) => t.table === table);
    const rt = rehearsal.find((t) => t.table === table);
    const d: ComparedCounts | null = dt ? { inScope: dt.inScope, moved: dt.toMove, merged: dt.merged, leftBehind: dt.leftBehind } : null;
    const r: ComparedCounts | null = rt
      ? { inScope: rt.inScope, moved: rt.moved, merged: rt.merged, leftBehind: rt.leftBehindByReason }
      : null;
    const equal =
      d !== null &&
      r !== null &&
      d.inScope === r.inScope &&
      d.moved === r.moved &&
      d.merged === r.merged &&
      reasonsText(d.leftBehind) === reasonsText(r.leftBehind);
    const why = equal
      ? null
      : !d
        ? 'the dry run did not count this table'
        : !r
          ? 'the rehearsal did not reach this table'
          : explain(plan, d, r);
    return { table, equal, dryRun: d, rehearsal: r, why };
  });
  const differences = tables
    .filter((t) => !t.equal)
    .map(
      (t) =>
        `${t.table}: dry run ${t.dryRun ? countsText(t.dryRun) : '-'}; rehearsal ${t.rehearsal ? countsText(t.rehearsal) : '-'}. Why: ${t.why}.`,
    );
  return { equal: differences.length === 0, tables, differences };
}
