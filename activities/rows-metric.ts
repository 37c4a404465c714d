// Rows moved per step, as a Prometheus counter (`cutover_rows_moved`, labels step and table) on the
// worker's metrics endpoint (worker/run.ts installs the runtime's Prometheus exporter; without one
// the meter is a no-op). Counted from each step's result, once per completed activity.
import { Context } from '@temporalio/activity';
import type { PublishResult, RestoreResult, RollbackResult, StageResult } from '../common/results';

/** Per table, the rows a completed step moved: staged, inserted into production, deleted by a rollback, restored. */
export function rowsMoved(activity: string, result: unknown): { table: string; rows: number }[] {
  const tables = (result as { tables?: unknown[] } | null)?.tables;
  if (!Array.isArray(tables)) return [];
  switch (activity) {
    case 'stage':
      return (tables as StageResult['tables']).map((t) => ({ table: t.table, rows: t.rows }));
    case 'publish':
      return (tables as PublishResult['tables']).map((t) => ({ table: t.table, rows: t.inserted }));
    case 'rollback':
      return (tables as RollbackResult['tables']).map((t) => ({ table: t.table, rows: t.deleted }));
    case 'restore':
      return (tables as RestoreResult['tables']).map((t) => ({ table: t.table, rows: t.restored }));
    default:
      return [];
  }
}

/** Never fails the activity: a metric is not worth a retry. */
export function countRowsMoved(result: unknown): void {
  try {
    count(result);
  } catch {
    // no activity context (a direct call in a test) or no meter: nothing to count into
  }
}

function count(result: unknown): void {
  const ctx = Context.current();
  const moved = rowsMoved(ctx.info.activityType, result).filter((m) => Number.isFinite(m.rows) && m.rows > 0);
  if (moved.length === 0) return;
  const counter = ctx.metricMeter.createCounter(
    'cutover_rows_moved',
    'rows',
    'Rows moved per step and table (stage: staged, publish: inserted, rollback: deleted, restore: restored)',
  );
  for (const m of moved) counter.add(m.rows, { step: ctx.info.activityType, table: m.table });
}
