// Whether a parent row that does not move already exists in production, by its table's own identity
// rule: `keep` by its key, `match` by its natural key (mapped through the id maps of the tables that
// key refers to), `new` never (it must move). Shared by the scope filter (`follow`), the dangling
// check and publish, so all three find the same production row.
import type { ForeignKey } from './catalog';
import { ident, qualified } from './connect';
import { fkEquals, keyReferences } from './keys';
import type { Resolved, ResolvedTable } from './resolve';
import { computedColumns } from './mapping-staging';
import type { StagingNames } from './staging';

/** An ids: match table some plan table references: its referenced Pilot rows are staged as lookups. */
export function hasLookup(t: ResolvedTable, r: Resolved): boolean {
  if (t.spec.ids !== 'match') return false;
  const byName = new Map(r.tables.map((x) => [x.name, x]));
  return r.tables.some((c) => keyReferences(c, byName).some((fk) => fk.refTable === t.name));
}

/** Columns a lookup row needs to be matched as buildMap matches staged rows: key, natural key, FKs. */
export function lookupColumns(t: ResolvedTable) {
  const want = new Set([...t.key, ...(t.spec.match ?? []), ...t.target.foreignKeys.flatMap((f) => f.columns)]);
  // A column a mapped table computes in staging (a constant tenant) is not read from the Pilot, nor matched on.
  const computed = new Set(computedColumns(t));
  return t.columns.filter((c) => want.has(c.name) && !computed.has(c.name));
}

const pointsAtKey = (fk: ForeignKey, parent: ResolvedTable) =>
  fk.refColumns.length === parent.key.length && fk.refColumns.every((c, i) => c === parent.key[i]);

/**
 * SQL: the parent that staged row `s` references through `fk` exists in production by the parent's
 * identity rule (`parent` undefined: not in the plan, so its key means the same row in both).
 */
export function inProduction(fk: ForeignKey, parent: ResolvedTable | undefined, r: Resolved, names: StagingNames, s = 's'): string {
  if (!parent || parent.spec.ids === 'keep') {
    const prod = parent ? qualified(parent.target.schema, parent.target.name) : qualified(fk.ref.schema, fk.ref.name);
    return `EXISTS (SELECT 1 FROM ${prod} p WHERE ${fkEquals(fk, 'p', s)})`;
  }
  if (parent.spec.ids === 'match' && hasLookup(parent, r) && pointsAtKey(fk, parent)) {
    return `EXISTS (SELECT 1 FROM ${names.found(parent.index)} f WHERE ${fk.columns.map((c, i) => `f.o${i} = ${s}.${ident(c)}`).join(' AND ')})`;
  }
  return 'FALSE';
}
