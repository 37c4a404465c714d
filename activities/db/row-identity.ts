// Row identity: which Production row is this Pilot row, and which Pilot row is this Production row.
// One answer for every table and id strategy, so no step compares a Pilot key with a Production row
// on its own. A row's Production key is
//   - new / match: its id map's n0.. (m<index> in staging; cutover.id_map once published);
//   - keep: its own key, except key columns that are foreign keys to a new / match parent, which take
//     the parent's Production key (order lines keyed by (order_id, product_id)); publish records the
//     Pilot key → Production key pair of such rows in cutover.id_map too (published_keys new_keys).
// From staging (before and during publish) the answer is SQL over the staged rows and the maps; after
// publish it is SQL over cutover.published_keys (and the older per-row stores), which hold the pairs
// for every moved row: the Production key of an ids: keep row without rewritten columns is its key.
import { ident, qualified } from './connect';
import { PERSISTED_PAIRS } from './persisted-pairs';
import { isMapped, mappedRows, type MappedRows } from './remap';
import type { Resolved, ResolvedTable } from './resolve';
import { keySequence } from './resolve-rules';
import type { StagingNames } from './staging';

const own = (c: string) => `s.${ident(c)}`;
const typeOf = (t: ResolvedTable, c: string) => t.columns.find((x) => x.name === c)!.type;

/**
 * Whether some of `t`'s rows have a Production key other than their Pilot key by the plan's rules:
 * new / match tables, and keep tables with a key column rewritten through a mapped parent.
 */
export function keyRewritten(t: ResolvedTable, r: Resolved, names: StagingNames): boolean {
  if (isMapped(t)) return true;
  const rows = mappedRows(t, r, names);
  return t.key.some((k) => rows.exprs.get(k) !== own(k));
}

/**
 * The staged rows publish inserts into `t` (not merged), every column as Production will hold it.
 * Before the maps are allocated (the dry run) a key a sequence will draw is NULL (it cannot collide:
 * publish leaves sequences ahead of every key), and an unmapped parent's key likewise.
 */
export function insertedRows(t: ResolvedTable, r: Resolved, names: StagingNames): MappedRows {
  if (!isMapped(t)) return mappedRows(t, r, names);
  const rows = mappedRows(t, r, names, { ownKey: false });
  const seq = keySequence(t);
  const exprs = new Map(rows.exprs);
  t.key.forEach((k, i) => exprs.set(k, seq && i === seq.index ? `me.n${i}` : `coalesce(me.n${i}, ${rows.exprs.get(k)})`));
  const on = t.key.map((k, i) => `me.o${i} = s.${ident(k)}`).join(' AND ');
  return {
    from: `${rows.from} LEFT JOIN ${names.map(t.index)} me ON ${on}`,
    exprs,
    movedOnly: `(me.outcome IS NULL OR me.outcome = 'moved')`,
    own: rows.own,
  };
}

/** A key column's Production value as the column's own type (a rewritten one has its parent's type). */
export function productionKeyExprs(t: ResolvedTable, rows: MappedRows): string[] {
  return t.key.map((k) => {
    const e = rows.exprs.get(k)!;
    return e === own(k) ? e : `(${e})::${typeOf(t, k)}`;
  });
}

/**
 * SQL from staging: per staged row of `t` (and, for match tables, per parent found in Production), its
 * Pilot key (o0..), its Production key (n0..) and outcome moved / merged / found. Only rows whose
 * Production key is known: after publish's maps are built, every row.
 */
export function stagedPairs(t: ResolvedTable, r: Resolved, names: StagingNames): string {
  if (isMapped(t)) return `SELECT * FROM ${names.map(t.index)}`;
  const rows = mappedRows(t, r, names);
  const n = productionKeyExprs(t, rows);
  return `SELECT ${[...t.key.map((k, i) => `s.${ident(k)} AS o${i}`), ...n.map((e, i) => `${e} AS n${i}`)].join(', ')}, 'moved'::text AS outcome FROM ${rows.from}`;
}

/** SQL from staging: the Production keys (k0..) of the rows this run inserts into `t`. */
export function insertedKeys(t: ResolvedTable, r: Resolved, names: StagingNames): string {
  return `SELECT ${t.key.map((_, i) => `x.n${i} AS k${i}`).join(', ')} FROM (${stagedPairs(t, r, names)}) x WHERE x.outcome = 'moved'`;
}

export { PERSISTED_PAIRS }; // (db/persisted-pairs.ts: read by db/already-moved.ts too, which remap imports)

/** SQL ($1, $2 as PERSISTED_PAIRS): the Production keys (k0.., typed) of the rows the run inserted into `t`. */
export function persistedInsertedKeys(t: ResolvedTable): string {
  return `SELECT ${t.key.map((k, i) => `(x.new_key->>${i})::${typeOf(t, k)} AS k${i}`).join(', ')} FROM (${PERSISTED_PAIRS}) x WHERE x.outcome = 'moved'`;
}

/**
 * SQL ($1, $2 as PERSISTED_PAIRS): each moved or merged Pilot key (typed, o0..) with its Production key
 * (typed, n0..): the translation of a Pilot key (an erasure subject, a consent subject) to Production.
 */
export function persistedPairsTyped(t: ResolvedTable): string {
  const slots = (col: string, p: string) => t.key.map((k, i) => `(x.${col}->>${i})::${typeOf(t, k)} AS ${p}${i}`);
  return `SELECT ${[...slots('old_key', 'o'), ...slots('new_key', 'n')].join(', ')}, x.outcome FROM (${PERSISTED_PAIRS}) x WHERE x.outcome IN ('moved', 'merged')`;
}

/** `prod p` joined to the staged row it is (alias s), by Production key: for reading a Pilot row's Production row. */
export function productionRowOn(t: ResolvedTable, rows: MappedRows, p = 'p'): string {
  const n = productionKeyExprs(t, rows);
  return `${qualified(t.target.schema, t.target.name)} ${p} ON ${t.key.map((k, i) => `${p}.${ident(k)} = ${n[i]}`).join(' AND ')}`;
}
