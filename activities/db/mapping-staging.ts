// How a mapped table's staging is named and filled: staged columns are Production's (plus raw Pilot
// inputs under reserved names); SQL reading the Pilot translates a staged name back to the Pilot
// column it comes from. For a table without a mapping every function here is the identity.
import type { Column } from './catalog';
import { ident } from './connect';
import { pilotSource } from './mapping';
import type { ResolvedTable } from './resolved-table';

/** A staged column of `t` by its staged name: a Production column, or a raw Pilot input (mapped tables). */
export function stagedColumn(t: ResolvedTable, name: string): Column | undefined {
  const c = t.columns.find((x) => x.name === name);
  if (c || !t.mapping) return c;
  const raw = t.mapping.raw.find((r) => r.staged === name);
  return raw
    ? { name: raw.staged, type: raw.type, notNull: false, hasDefault: false, generated: false, identity: '', sequence: null }
    : undefined;
}

/** The raw Pilot inputs staged beside `t`'s columns (none without a mapping). */
export function rawColumns(t: ResolvedTable): Column[] {
  return (t.mapping?.raw ?? []).map((r) => stagedColumn(t, r.staged)!);
}

/** Production columns of `t` computed in staging at cleanup (not read by COPY). */
export function computedColumns(t: ResolvedTable): string[] {
  return (t.mapping?.columns ?? []).filter((m) => m.computed).map((m) => m.column);
}

/** The Pilot column a staged column comes from, as it is (the name itself without a mapping). */
export function pilotColumn(t: ResolvedTable, staged: string): string {
  if (!t.mapping) return staged;
  const src = pilotSource(t.mapping, staged);
  // A staged name with no Pilot source is a programming error: fail loudly, never read another column.
  if (!src || src.flag) throw new Error(`${t.name}: staged column ${staged} is not read from the Pilot as it is`);
  return src.pilot;
}

/** SQL over the Pilot row (alias `a`) that COPY stages into staged column `staged`. */
export function pilotExpr(t: ResolvedTable, staged: string, a: string): string {
  if (!t.mapping) return `${a}.${ident(staged)}`;
  const src = pilotSource(t.mapping, staged);
  if (!src) throw new Error(`${t.name}: staged column ${staged} is not read from the Pilot`);
  return src.flag ? `(${a}.${ident(src.pilot)} IS NOT NULL)` : `${a}.${ident(src.pilot)}`;
}

/** `a.<pilot column>` for each staged column, for SQL on the Pilot. */
export const pilotList = (t: ResolvedTable, a: string, cols: string[]) => cols.map((c) => `${a}.${ident(pilotColumn(t, c))}`).join(', ');
