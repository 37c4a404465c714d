// Identifier remapping. ids: new draws keys from the target's sequence; ids: match reuses the
// production row with the same natural key (else inserts it, with a new key where a sequence
// exists); ids: keep maps a key to itself. Foreign keys are rewritten through the parents' maps.
// Maps live in staging (m<index>: o0.. old key, n0.. new key, outcome) and are copied to cutover.id_map;
// a match table's map also holds the parents that do not move but were found in production (found), and
// a new / keep-with-sequence table's the parents an earlier run moved that staged rows reference (found).
import type { Client } from 'pg';
import { earlierParents } from './already-moved';
import { ident, qualified } from './connect';
import { hasLookup } from './identity';
import { keyList, slotList, slotsEqual } from './keys';
import type { Resolved, ResolvedTable } from './resolve';
import { keySequence } from './resolve-rules';
import type { StagingNames } from './staging';
import { planIssue } from '../errors';

export const isMapped = (t: ResolvedTable) => t.spec.ids !== 'keep';
const oCols = (t: ResolvedTable) => t.key.map((_, i) => `o${i}`);
const nCols = (t: ResolvedTable) => t.key.map((_, i) => `n${i}`);
const keyType = (t: ResolvedTable, k: string) => t.columns.find((c) => c.name === k)!.type;

/** The staged rows of `t` with every key/FK column rewritten to its production value. */
export interface MappedRows {
  from: string; // FROM … joins; alias s is the staged row
  exprs: Map<string, string>; // column -> SQL expression of its production value
  movedOnly: string; // WHERE clause: rows that are inserted (not merged)
  own: string; // the staged table alone, alias s (ownRowsFrom)
}

/**
 * `rows.from`, or the staged table alone when its joins cannot matter to a query reading only `used`:
 * every row counts (movedOnly TRUE: no join to the table's own map) and every expression reads the
 * staged row itself. The remaining joins are LEFT JOINs to parents' maps, one row per Pilot key, so
 * they neither drop nor repeat a row (publish inserts through them). Saves a hash join per pass in
 * the dry run's checks of a table whose keys are kept.
 */
export function ownRowsFrom(rows: MappedRows, used: string[]): string {
  return rows.movedOnly === 'TRUE' && used.every((e) => /^s\."(?:[^"]|"")+"$/.test(e)) ? rows.own : rows.from;
}

export function mappedRows(t: ResolvedTable, r: Resolved, names: StagingNames, opts: { ownKey: boolean } = { ownKey: true }): MappedRows {
  const byName = new Map(r.tables.map((x) => [x.name, x]));
  const exprs = new Map(t.columns.map((c) => [c.name, `s.${ident(c.name)}`]));
  const joins: string[] = [];
  let movedOnly = 'TRUE';
  if (isMapped(t) && opts.ownKey) {
    joins.push(`JOIN ${names.map(t.index)} me ON ${slotsEqual('me', 'o', 's', t.key)}`);
    t.key.forEach((k, i) => exprs.set(k, `me.n${i}`));
    movedOnly = `me.outcome = 'moved'`;
  }
  let j = 0;
  for (const fk of t.target.foreignKeys) {
    const parent = byName.get(fk.refTable);
    if (!parent || !isMapped(parent)) continue;
    // A self-reference through the table's own key columns: its map is what is being built.
    if (parent === t && fk.columns.some((c) => t.key.includes(c))) continue;
    if (!(fk.refColumns.length === parent.key.length && fk.refColumns.every((c, i) => c === parent.key[i]))) continue;
    // A mapped table's own key columns come from its map (which holds them mapped) when ownKey is set.
    if (!fk.columns.every((c) => exprs.has(c)) || fk.columns.some((c) => t.key.includes(c) && isMapped(t) && opts.ownKey)) continue;
    const a = `j${j++}`;
    joins.push(`LEFT JOIN ${names.map(parent.index)} ${a} ON ${fk.columns.map((c, i) => `${a}.o${i} = s.${ident(c)}`).join(' AND ')}`);
    fk.columns.forEach((c, i) => exprs.set(c, `${a}.n${i}`));
  }
  const own = `${names.data(t.index, t.name)} s`;
  return { from: `${own} ${joins.join(' ')}`, exprs, movedOnly, own };
}

export async function createMap(db: Client, t: ResolvedTable, names: StagingNames, temp: boolean): Promise<void> {
  const cols = [
    ...t.key.map((k, i) => `o${i} ${keyType(t, k)}`),
    ...t.key.map((k, i) => `n${i} ${keyType(t, k)}`),
    'outcome text NOT NULL',
  ];
  await db.query(`CREATE ${temp ? '' : 'UNLOGGED '}TABLE IF NOT EXISTS ${names.map(t.index)} (${cols.join(', ')})`);
  await db.query(`TRUNCATE ${names.map(t.index)}`);
}

/**
 * Fill m<index> for a mapped table: merged rows first (match), then the parents found in production
 * (match) or moved by an earlier run (db/already-moved.ts), then new keys for the rest. With `allocate: false` (dry run) nothing is drawn from sequences.
 */
export async function buildMap(
  db: Client,
  t: ResolvedTable,
  r: Resolved,
  names: StagingNames,
  allocate: boolean,
): Promise<{ merged: number; moved: number }> {
  const map = names.map(t.index);
  let merged = 0;
  if (t.spec.ids === 'match') {
    const natural = t.spec.match ?? [];
    const rows = mappedRows(t, r, names, { ownKey: false });
    const prod = qualified(t.target.schema, t.target.name);
    // A row whose parent is not (yet) in its map cannot merge: it takes no part in the uniqueness check.
    const mapped = natural
      .filter((c) => rows.exprs.get(c) !== `s.${ident(c)}`)
      .map((c) => `(s.${ident(c)} IS NULL OR ${rows.exprs.get(c)} IS NOT NULL)`);
    const staged = `SELECT ${natural.map((c) => `${rows.exprs.get(c)} AS ${ident(c)}`).join(', ')} FROM ${rows.from} WHERE ${['TRUE', ...mapped].join(' AND ')}`;
    await refuseDuplicates(db, staged, natural, `tables[${t.index}].match`, `${t.name} (staged Pilot rows)`);
    // A unique key of NOT NULL columns within the natural key proves production unique without reading it.
    const notNull = (c: string) => t.target.columns.find((x) => x.name === c)?.notNull === true;
    if (!t.target.uniqueKeys.some((u) => u.every((c) => natural.includes(c) && notNull(c)))) {
      await refuseDuplicates(
        db,
        `SELECT ${natural.map(ident).join(', ')} FROM ${prod}`,
        natural,
        `tables[${t.index}].match`,
        `${t.name} (production)`,
      );
    }
    const on = natural.map((c) => matchColumn(t, c, rows.exprs.get(c)!)).join(' AND ');
    const res = await db.query(
      `INSERT INTO ${map} (${[...oCols(t), ...nCols(t)].join(', ')}, outcome)
       SELECT ${keyList('s', t.key)}, ${keyList('p', t.key)}, 'merged' FROM ${rows.from} JOIN ${prod} p ON ${on}`,
    );
    merged = res.rowCount ?? 0;
  }
  if (hasLookup(t, r) && names.found(t.index) !== map) {
    // (not while matching the lookups themselves)
    // Parents that do not move but staged rows reference, found in production by natural key at
    // stage: children are rewritten to them. Not in scope, so no manifest row; never a staged or
    // left-behind row (those are merged, moved or gone).
    await db.query(
      `INSERT INTO ${map} (${[...oCols(t), ...nCols(t)].join(', ')}, outcome)
       SELECT ${slotList('f', 'o', t.key)}, ${slotList('f', 'n', t.key)}, 'found' FROM ${names.found(t.index)} f
        WHERE NOT EXISTS (SELECT 1 FROM ${names.data(t.index, t.name)} s WHERE ${slotsEqual('f', 'o', 's', t.key)})
          AND NOT EXISTS (SELECT 1 FROM ${names.gone(t.index)} g WHERE ${slotsEqual('f', 'o', 'g', t.key)})`,
    );
  }
  // Parents an earlier run moved (left behind as already moved) that staged rows reference: children
  // are rewritten to the Production keys that run gave them (dry run too: it shows the same outcome).
  if (names.found(t.index) !== map) await earlierParents(db, t, r, names, map);
  if (!allocate) return { merged, moved: 0 };
  const seq = keySequence(t);
  // The generated key column draws from its sequence, the other key columns are kept, a foreign key
  // to a remapped parent as its parent's Production key (a note keyed by (order_id, note_no));
  // without a sequence (match on a natural-keyed table) an unmatched row keeps its whole key so.
  const mapped = mappedRows(t, r, names, { ownKey: false });
  // Only a key with a rewritten column reads the parents' maps (a cycle's later parent has none yet).
  const rewritten = t.key.some((k) => mapped.exprs.get(k) !== `s.${ident(k)}`);
  const rows = rewritten ? mapped : { from: `${names.data(t.index, t.name)} s`, exprs: new Map(t.key.map((k) => [k, `s.${ident(k)}`])) };
  const kept = t.key.map((k, i) => `${rows.exprs.get(k)} AS ${ident(`__cutover_n${i}`)}`).join(', ');
  const newKey = t.key.map((k, i) => (seq && i === seq.index ? 'nextval($1::regclass)' : `s.${ident(`__cutover_n${i}`)}`)).join(', ');
  const res = await db.query(
    `INSERT INTO ${map} (${[...oCols(t), ...nCols(t)].join(', ')}, outcome)
     SELECT ${keyList('s', t.key)}, ${newKey}, 'moved' FROM (
       SELECT ${keyList('s', t.key)}, ${kept} FROM ${rows.from}
        WHERE NOT EXISTS (SELECT 1 FROM ${map} m WHERE ${slotsEqual('m', 'o', 's', t.key)})
        ORDER BY ${keyList('s', t.key)}) s`,
    seq ? [seq.sequence] : [],
  );
  return { merged, moved: res.rowCount ?? 0 };
}

/**
 * Production row p has staged row s's value of natural-key column c (`expr`: mapped through the
 * parent's map when c is a foreign key). A mapped value must map: a parent missing from its map
 * matches nothing, not production's NULLs. Plain `=` where production has no NULLs, so it can hash.
 */
function matchColumn(t: ResolvedTable, c: string, expr: string): string {
  const own = `s.${ident(c)}`;
  const prod = `p.${ident(c)}`;
  if (t.target.columns.find((x) => x.name === c)?.notNull) return `${prod} = ${expr}`;
  return expr === own ? `${prod} IS NOT DISTINCT FROM ${own}` : `(${prod} = ${expr} OR (${own} IS NULL AND ${prod} IS NULL))`;
}

async function refuseDuplicates(db: Client, rowsSql: string, cols: string[], path: string, where: string): Promise<void> {
  const list = cols.map(ident).join(', ');
  const res = await db.query(`SELECT ${list}, count(*)::int AS n FROM (${rowsSql}) x GROUP BY ${list} HAVING count(*) > 1 LIMIT 1`);
  if (res.rows.length > 0) {
    const { n, ...example } = res.rows[0];
    throw planIssue(path, `natural key (${cols.join(', ')}) is not unique in ${where}: ${JSON.stringify(example)} appears ${n} times`);
  }
}

/** Refill m<index> from cutover.id_map, where publish persisted it (the staging copy may be gone). */
export async function restoreMap(db: Client, runKey: string, t: ResolvedTable, names: StagingNames): Promise<void> {
  await createMap(db, t, names, false);
  const slot = (col: string, i: number, k: string) => `(${col}->>${i})::${keyType(t, k)}`;
  await db.query(
    `INSERT INTO ${names.map(t.index)} (${[...oCols(t), ...nCols(t)].join(', ')}, outcome)
     SELECT ${[...t.key.map((k, i) => slot('old_key', i, k)), ...t.key.map((k, i) => slot('new_key', i, k))].join(', ')}, outcome
       FROM cutover.id_map WHERE run_key = $1 AND table_name = $2`,
    [runKey, t.name],
  );
}
