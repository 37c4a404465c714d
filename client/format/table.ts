// Plain-text tables for the terminal.

// Shared with the Temporal UI's details, which show tables as aligned text (common/text-table.ts).
export { renderTable, type Cell } from '../../common/text-table';

/** `reason=n, reason=n` (or `-` when nothing). */
export function formatReasons(counts: Record<string, number> | undefined): string {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => n > 0);
  if (!entries.length) return '-';
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `${reason}=${n}`)
    .join(', ');
}

export const sumValues = (counts: Record<string, number> | undefined): number =>
  Object.values(counts ?? {}).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);

export function percent(done: number, total: number): string {
  if (!total) return done ? '100%' : '-';
  return `${Math.min(100, Math.floor((done / total) * 100))}%`;
}
