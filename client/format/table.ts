// Plain-text tables for the terminal.

// Shared with the Temporal UI's details, which show tables as aligned text (common/text-table.ts).
export { renderTable, type Cell } from '../../common/text-table';

// Counts as text, shared with the report sections step modules declare (common/steps/).
export { formatReasons, sumValues } from '../../common/report-blocks';

export function percent(done: number, total: number): string {
  if (!total) return done ? '100%' : '-';
  return `${Math.min(100, Math.floor((done / total) * 100))}%`;
}
