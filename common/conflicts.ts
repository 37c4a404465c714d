// Predicted conflicts of one table in one cell: its key collisions, then each Production constraint
// the rows to insert would break, by name (dry run table, gate memo, report). Names and counts only.
import type { TableDryRun } from './results';

export function conflictsCell(t: Pick<TableDryRun, 'collisions' | 'conflicts'>): string {
  const named = (t.conflicts ?? []).map((c) => `${c.constraint}: ${c.existing + c.duplicates}`);
  return named.length === 0 ? String(t.collisions) : `${t.collisions}; ${named.join('; ')}`;
}

/** Whether publish would refuse this table's rows, as predicted by the dry run. */
export const predictsRefusal = (t: Pick<TableDryRun, 'collisions' | 'conflicts'>): boolean =>
  t.collisions > 0 || (t.conflicts ?? []).length > 0;
