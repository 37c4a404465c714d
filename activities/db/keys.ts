// Join helpers over a table's key columns, and the foreign keys that point at a plan table's key.
import type { ForeignKey } from './catalog';
import { ident } from './connect';
import type { ResolvedTable } from './resolve';

export const keyList = (alias: string, key: string[]) => key.map((k) => `${alias}.${ident(k)}`).join(', ');
export const keyEquals = (a: string, b: string, key: string[]) => key.map((k) => `${a}.${ident(k)} = ${b}.${ident(k)}`).join(' AND ');
export const keyJson = (alias: string, key: string[]) => `jsonb_build_array(${keyList(alias, key)})`;

// Map tables and key lists hold a key positionally (o0, o1 … / n0 … / k0 …), one slot per key column.
/** alias.<prefix>0, alias.<prefix>1, … for a key. */
export const slotList = (alias: string, prefix: string, key: string[]) => key.map((_, i) => `${alias}.${prefix}${i}`).join(', ');
/** alias.<prefix>i = other."<key[i]>" for every key column. */
export const slotsEqual = (alias: string, prefix: string, other: string, key: string[]) =>
  key.map((k, i) => `${alias}.${prefix}${i} = ${other}.${ident(k)}`).join(' AND ');

/** A foreign key's join: parent.<referenced column> = child.<referencing column>, column by column. */
export const fkEquals = (fk: { columns: string[]; refColumns: string[] }, parent: string, child: string) =>
  fk.columns.map((c, i) => `${parent}.${ident(fk.refColumns[i])} = ${child}.${ident(c)}`).join(' AND ');

/** FKs of `t` (either catalog) that point at the key of a plan table and whose columns are staged. */
export function keyReferences(t: ResolvedTable, byName: Map<string, ResolvedTable>): ForeignKey[] {
  const seen = new Set<string>();
  return [...t.target.foreignKeys, ...t.source.foreignKeys].filter((fk) => {
    const parent = byName.get(fk.refTable);
    const sig = `${fk.columns.join(',')}>${fk.refTable}`;
    if (!parent || seen.has(sig)) return false;
    seen.add(sig);
    const sameKey = fk.refColumns.length === parent.key.length && fk.refColumns.every((c, i) => c === parent.key[i]);
    return sameKey && fk.columns.every((c) => t.columns.some((x) => x.name === c));
  });
}
