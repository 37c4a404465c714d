// The human-readable table, the targets with pass/miss, and the one-line JSON summary (printed last).
import type { PhaseResult } from './raw';

export interface Row {
  phase: string;
  rows: number;
  seconds: number;
  rssMb?: number;
  note?: string;
  scaled?: boolean; // another scale than raw's: no time ratio
}

export interface Summary {
  rows: number;
  stage_vs_raw: number | null;
  run_vs_raw: number | null;
  run_vs_pgcopydb: number | null;
  jailer_vs_raw: number | null; // --jailer: Jailer's export + import into the same Production ÷ raw
  run_vs_jailer: number | null;
  window_vs_raw: number | null; // the cutover window (gate cutover approved → completed) ÷ raw
  window_seconds: number | null;
  rss_mb: number | null;
  rss_growth_10x: number | null;
  history_events: number | null;
  tables: number;
  lanes: number; // the plan's parallelism.lanes (--lanes; 1 = tables whole)
  step_seconds: Record<string, number> | null; // the whole run's seconds per step (preflight, stage, validate, …)
  subjects: number;
  plan_variant: string;
  production_scale: number; // K: Production's unrelated rows ÷ the moved volume
  publish_vs_raw: number | null; // step time ÷ raw time
  validate_vs_raw: number | null;
  preflight_vs_raw: number | null;
  prod_growth_10x: number | null; // whole run at K = 10 ÷ at K = 1 (--production-scale-check)
  stage_rss_growth_10x: number | null; // stage's peak RSS at 10·N ÷ at N (--scale10)
  phase_growth_10x: Record<string, number> | null; // --scale10: each step's seconds at 10·N ÷ at N (linear: about 10)
  rollback_vs_publish: number | null; // surgical rollback of the run's rows ÷ publish of the same rows
  rollback_seconds: number | null;
  rollback_rows: number | null; // rows the rollback deleted
  rollback_error: string | null; // why it did not complete (blocked, refused), when it did not
  /** --peers: each tool's result judged by content (bench/content-check.ts); null: not judged. */
  correct_by_content: Record<string, boolean | null> | null;
  writer_p99_ratio: number | null; // the application writer's p99 during the run ÷ before it
  writer_p99_before_ms: number | null;
  writer_p99_during_ms: number | null;
  writer_ops: number | null;
  writer_slowest_ms_by_step: Record<string, number> | null; // the slowest write beside each step of the run
  writer_writes_present: boolean | null; // every write the writer committed is in Production
}

const r2 = (x: number) => Math.round(x * 100) / 100;
/** Rows per table times K (the unrelated fill of a Production at --production-scale K). */
export function scaleCounts(counts: Record<string, number>, k: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([t, n]) => [t, Math.round(n * k)]));
}

export const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a === undefined || b === undefined || !(b > 0) ? null : r2(a / b);

function pad(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
    .join('  ')
    .trimEnd();
}

export function table(rows: Row[], raw: PhaseResult | undefined): string {
  const rawRate = raw ? raw.rows / raw.seconds : undefined;
  const head = ['phase', 'rows', 'seconds', 'rows/s', 'rows/s÷raw', 'time÷raw', 'peak RSS MB', 'note'];
  const body = rows.map((r) => {
    const rate = r.rows / r.seconds;
    return [
      r.phase,
      String(r.rows),
      r.seconds.toFixed(2),
      Math.round(rate).toString(),
      rawRate ? (rate / rawRate).toFixed(2) : '-',
      raw && !r.scaled ? (r.seconds / raw.seconds).toFixed(2) : '-',
      r.rssMb !== undefined ? r.rssMb.toFixed(0) : '-',
      r.note ?? '',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [pad(head, widths), rule, ...body.map((b) => pad(b, widths))].join('\n');
}

export function targets(s: Summary): string[] {
  const line = (name: string, value: number | null, op: '>=' | '<=', limit: number, unit = '×') => {
    if (value === null) return `  ${name.padEnd(34)} n/a (target ${op} ${limit}${unit})`;
    const ok = op === '>=' ? value >= limit : value <= limit;
    const by = op === '>=' ? limit / value : value / limit;
    return `  ${name.padEnd(34)} ${String(value).padStart(8)}${unit}  target ${op} ${limit}${unit}  ${ok ? 'pass' : `MISS (off by ${by.toFixed(2)}×)`}`;
  };
  const maxEvents = 30 * s.tables + 50;
  return [
    'targets:',
    line('stage throughput vs raw', s.stage_vs_raw, '>=', 0.9),
    line('whole run time vs raw', s.run_vs_raw, '<=', 1.5),
    line('cutover window vs raw', s.window_vs_raw, '<=', 1.3),
    line('publish time vs raw', s.publish_vs_raw, '<=', 1.2),
    line('preflight time vs raw', s.preflight_vs_raw, '<=', 0.25),
    line('surgical rollback ÷ publish', s.rollback_vs_publish, '<=', 1.5),
    line('whole run K = 10 ÷ K = 1', s.prod_growth_10x, '<=', 1.2),
    line('RSS growth N → 10·N', s.rss_growth_10x, '<=', 1.2),
    line('stage RSS growth N → 10·N', s.stage_rss_growth_10x, '<=', 1.2),
    // Linear is 10× the time for 10× the rows: each step's growth ÷ 10, with the same slack as RSS.
    ...Object.entries(s.phase_growth_10x ?? {}).map(([step, g]) => line(`${step} time per row N → 10·N`, r2(g / 10), '<=', 1.2)),
    `  ${'writer p99 during ÷ before'.padEnd(34)} ${s.writer_p99_ratio === null ? 'n/a' : `${String(s.writer_p99_ratio).padStart(8)}×`}  (reported)`,
    line(`history events (30×${s.tables} tables + 50)`, s.history_events, '<=', maxEvents, ''),
  ];
}
