// Live progress for `cutover status --watch`: the pending activities' heartbeat details in the
// common progress shape (common/progress.ts), as one table per step with rows done out of the
// step's own total in its own word, elapsed time per table, and a total line; rows/s and time left
// only for a step that counts rows as they stream (the others cannot measure inside a statement).
import {
  formatDuration,
  formatRate,
  isStepProgress,
  measures,
  rowsPerSecond,
  stepTimeLeftMs,
  tableEstimate,
  unitOf,
  type StepProgress,
} from '../../common/progress';
import { percent, renderTable } from './table';

/** The progress in a heartbeat's details (the details themselves, or wrapped in the argument list). */
export function stepProgressFrom(details: unknown): StepProgress[] {
  if (Array.isArray(details)) return details.flatMap((d) => stepProgressFrom(d));
  if (isStepProgress(details)) return [details];
  // A rehearsal's own beat from a worker before the rehearsal was a child workflow: `{rehearsal, step}`.
  const v = details as { step?: unknown } | null;
  if (v && typeof v === 'object' && isStepProgress(v.step)) return [{ ...v.step, within: 'rehearsal' }];
  return [];
}

/**
 * `publish (inserting): 1 of 3 tables done, 30000 of 90000 rows published (33%), 20s elapsed; rows are
 * counted per table as each statement ends: no time-left estimate` and the table. A step that
 * streams rows (stage) adds rows/s and, from its own throughput and within ten times its elapsed
 * time, the time left.
 */
export function formatStepProgress(p: StepProgress): string {
  const finished = p.tables.filter((t) => t.phase === 'done').length;
  const unit = unitOf(p);
  const streams = measures(p);
  const left = stepTimeLeftMs(p);
  const name = p.within ? `${p.within} → ${p.step}` : p.step;
  const head = [
    `${name}${p.phase ? ` (${p.phase})` : ''}: ${finished} of ${p.tables.length} tables done`,
    `${p.done} of ${p.total || '?'} rows ${unit} (${percent(p.done, p.total)})`,
    ...(streams ? [`${formatRate(rowsPerSecond(p.done, p.elapsedMs))} rows/s`] : []),
    `${formatDuration(p.elapsedMs)} elapsed`,
    ...(left !== null && p.done < p.total ? [`about ${formatDuration(left)} left`] : []),
    ...(p.bytes !== undefined ? [`${p.bytes} bytes`] : []),
  ].join(', ');
  const note = streams || finished === p.tables.length ? '' : '; rows are counted per table as each statement ends: no time-left estimate';
  if (!p.tables.length) return head + note;
  const rows = p.tables.map((t) => {
    const est = tableEstimate(t);
    const common = [t.table, t.phase, t.done, t.total || '?', percent(t.done, t.total)];
    const elapsed = t.phase === 'waiting' ? '-' : formatDuration(t.elapsedMs);
    if (!streams) return [...common, elapsed];
    return [...common, formatRate(est.rate), elapsed, t.phase === 'done' ? '-' : est.leftMs === null ? '?' : formatDuration(est.leftMs)];
  });
  const headers = ['table', 'state', unit, 'of', 'done', ...(streams ? ['rows/s', 'elapsed', 'left'] : ['elapsed'])];
  return `${head}${note}\n${renderTable(headers, rows)}`;
}

export function formatLiveProgress(steps: StepProgress[]): string | null {
  if (!steps.length) return null;
  return steps.map(formatStepProgress).join('\n\n');
}
