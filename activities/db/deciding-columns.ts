// The columns a dry run copies from the Pilot: what selection, cleanup and matching read. Shared by
// preflight's dry run and adopt's cleanup in place (db/in-place.ts), so it lives here, below both,
// rather than in the preflight step that in-place.ts would otherwise have to climb into.
import type { Resolved, ResolvedTable } from './resolve';

/** Columns that decide selection, cleanup and matching: keys, FKs (both ends), rule and match columns (and `extra`). */
export function decidingColumns(t: ResolvedTable, r: Resolved, extra: string[] = []) {
  // A mapped table is staged whole: the dry run checks every value the mapping computes.
  if (t.mapping) return t.columns;
  const want = new Set<string>([...t.key, ...(t.spec.match ?? []), ...extra]);
  for (const fk of [...t.source.foreignKeys, ...t.target.foreignKeys]) fk.columns.forEach((c) => want.add(c));
  // Staged references (a self-reference's included) are joined on the columns they point at.
  for (const fk of r.tables.flatMap((x) => [...x.source.foreignKeys, ...x.target.foreignKeys]))
    if (fk.refTable === t.name) fk.refColumns.forEach((c) => want.add(c));
  for (const rule of r.rules.testData.filter((x) => x.table.name === t.name)) rule.where.forEach((w) => want.add(w.column));
  if (r.rules.subjects?.table.name === t.name) want.add(r.rules.subjects.key);
  for (const rule of r.rules.retention.filter((x) => x.table.name === t.name)) want.add(rule.column);
  return t.columns.filter((c) => want.has(c.name));
}
