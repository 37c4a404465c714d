// The rows a `referenced` table must bring along up its own foreign keys: a support rep's manager,
// a category's parent, up the whole chain. One recursive query, used on the Pilot by the selection
// and on staging by the scope filter and the cleanup cascade, so all three keep the same rows.
import type { ForeignKey } from './catalog';
import { ident } from './connect';
import { fkEquals, keyList } from './keys';
import { pilotColumn } from './mapping-staging';
import type { ResolvedTable } from './resolve';

/** Self-references the closure goes up: both sides copied, so staging can follow them as the Pilot does. */
export function selfReferences(t: ResolvedTable): ForeignKey[] {
  const copied = (c: string) => t.columns.some((x) => x.name === c);
  return t.source.foreignKeys.filter((f) => f.refTable === t.name && f.columns.every(copied) && f.refColumns.every(copied));
}

/**
 * SELECT of the key of every row of `relation` that is a root (`roots(alias)` holds) or that a row of
 * the closure references through a self-reference. UNION (not ALL) of key + FK columns stops on
 * cycles. PostgreSQL allows one recursive reference, so several self-references are unnested with
 * one LATERAL VALUES list (still a hash/index join) or, when they point at different columns, ORed.
 * `next` hands out aliases unique in the enclosing statement.
 */
export function closureSql(
  t: ResolvedTable,
  relation: string,
  roots: (alias: string) => string,
  next: () => string,
  pilot = false,
): string {
  const fks = selfReferences(t);
  const [c, x, y, v] = [next(), next(), next(), next()];
  const cols = [...new Set([...t.key, ...fks.flatMap((f) => f.columns)])];
  // The relation's own column names: the Pilot's when it is the Pilot table (a mapped table renames them).
  const rel = (col: string) => ident(pilot ? pilotColumn(t, col) : col);
  const list = (a: string) => cols.map((col) => `${a}.${rel(col)}`).join(', ');
  const refs = fks[0].refColumns;
  const joinOn = (f: ForeignKey) => f.columns.map((col, i) => `${y}.${rel(f.refColumns[i])} = ${c}.${ident(col)}`).join(' AND ');
  let step: string;
  if (fks.length === 1) {
    step = `${c} JOIN ${relation} ${y} ON ${pilot ? joinOn(fks[0]) : fkEquals(fks[0], y, c)}`;
  } else if (fks.every((f) => f.refColumns.join('\u0000') === refs.join('\u0000'))) {
    const rows = fks.map((f) => `(${f.columns.map((col) => `${c}.${ident(col)}`).join(', ')})`).join(', ');
    const slots = refs.map((_, i) => `r${i}`);
    step = `${c} CROSS JOIN LATERAL (VALUES ${rows}) ${v}(${slots.join(', ')}) JOIN ${relation} ${y} ON ${refs.map((r, i) => `${y}.${rel(r)} = ${v}.${slots[i]}`).join(' AND ')}`;
  } else {
    step = `${c} JOIN ${relation} ${y} ON ${fks.map((f) => `(${pilot ? joinOn(f) : fkEquals(f, y, c)})`).join(' OR ')}`;
  }
  return `WITH RECURSIVE ${c}(${cols.map(ident).join(', ')}) AS (
      SELECT ${list(x)} FROM ${relation} ${x} WHERE ${roots(x)}
      UNION SELECT ${list(y)} FROM ${step})
    SELECT ${keyList(c, t.key)} FROM ${c}`;
}
