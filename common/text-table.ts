// Plain-text tables, columns padded to their widest cell and numbers right-aligned: the terminal's
// (client/format/table.ts) and, inside a code block, the Temporal UI's details, whose markdown
// tables have no cell padding and run together at half width. Pure: the workflow bundle imports it.

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
