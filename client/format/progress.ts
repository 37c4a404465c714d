// Live progress for `cutover status --watch`: the pending activities' heartbeat details in the
// common progress shape (common/progress.ts), as one table per step with rows done / total, rows/s
// and time left per table, and a total line.
import { formatDuration, formatRate, isStepProgress, rowsPerSecond, tableEstimate, timeLeftMs, type StepProgress } from '../../common/progress';
import { percent, renderTable } from './table';

/** The progress in a heartbeat's details (the details themselves, or wrapped in the argument list). */
export function stepProgressFrom(details: unknown): StepProgress[] {
  if (Array.isArray(details)) return details.flatMap((d) => stepProgressFrom(d));
  if (isStepProgress(details)) return [details];
  // A rehearsal's own beat before its first step reported: `{rehearsal, step}`.
  const v = details as { step?: unknown } | null;
  if (v && typeof v === 'object' && isStepProgress(v.step)) return [{ ...v.step, within: 'rehearsal' }];
  return [];
}

/** `publish: 2 of 4 tables, 12,000 of 30,000 rows (40%), 3.2k rows/s, 12s elapsed, about 6s left` and the table. */
export function formatStepProgress(p: StepProgress): string {
  const finished = p.tables.filter((t) => t.phase === 'done').length;
  const rate = rowsPerSecond(p.done, p.elapsedMs);
  const left = timeLeftMs(p.done, p.total, rate);
  const name = p.within ? `${p.within} → ${p.step}` : p.step;
  const head = [
    `${name}${p.phase ? ` (${p.phase})` : ''}: ${finished} of ${p.tables.length} tables`,
    `${p.done} of ${p.total || '?'} rows (${percent(p.done, p.total)})`,
    `${formatRate(rate)} rows/s`,
    `${formatDuration(p.elapsedMs)} elapsed`,
    ...(left !== null && p.done < p.total ? [`about ${formatDuration(left)} left`] : []),
    ...(p.bytes !== undefined ? [`${p.bytes} bytes`] : []),
  ].join(', ');
  if (!p.tables.length) return head;
  const rows = p.tables.map((t) => {
    const est = tableEstimate(t, p);
    return [
      t.table,
      t.phase,
      t.done,
      t.total || '?',
      percent(t.done, t.total),
      formatRate(est.rate),
      t.phase === 'waiting' ? '-' : formatDuration(t.elapsedMs),
      t.phase === 'done' ? '-' : formatDuration(est.leftMs),
    ];
  });
  return `${head}\n${renderTable(['table', 'state', 'rows', 'of', 'done', 'rows/s', 'elapsed', 'left'], rows)}`;
}

export function formatLiveProgress(steps: StepProgress[]): string | null {
  if (!steps.length) return null;
  return steps.map(formatStepProgress).join('\n\n');
}
