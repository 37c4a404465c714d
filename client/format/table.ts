// Plain-text tables for the terminal.

export type Cell = string | number | null | undefined;

const cellText = (c: Cell): string => (c === null || c === undefined ? '' : String(c)).replace(/\s*\n\s*/g, ' ');
const isNumeric = (c: Cell): boolean => typeof c === 'number';

/** Columns padded to their widest cell; numbers right-aligned. */
export function renderTable(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => headers.map((_, i) => cellText(r[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i].length)));
  const line = (cells: string[], raw?: Cell[]): string =>
    cells
      .map((c, i) => (raw && isNumeric(raw[i]) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...text.map((r, i) => line(r, rows[i]))].join('\n');
}

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
