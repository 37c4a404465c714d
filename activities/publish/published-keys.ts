// The manifest and id map rows publish writes, as chunks of cutover.published_keys (the
// cutover.manifest and cutover.id_map views unnest them; activities/db/control-schema.ts).
import type { Client } from 'pg';
import { ident } from '../db/connect';
import { isMapped } from '../db/remap';
import type { Resolved, ResolvedTable } from '../db/resolve';
import { keyRewritten, stagedPairs } from '../db/row-identity';
import type { StagingNames } from '../db/staging';

/**
 * The manifest (a row per staged row, moved or merged) and the id map persisted per run, with the
 * parents found in production that children were rewritten to (outcome found: in the id map, not in
 * the manifest), written as chunks of cutover.published_keys that the cutover.manifest and
 * cutover.id_map views unnest. Rows of a `referenced` table are in scope only because moving rows
 * need them, and say so. An ids: keep table whose key is made of foreign keys to remapped parents
 * (given `r`) records each row's Production key too (activities/db/row-identity.ts): it is in the id
 * map like a mapped table's. Returns the chunk rows written (what the transaction's own counts show).
 */
export async function writeManifest(db: Client, runKey: string, t: ResolvedTable, names: StagingNames, r?: Resolved): Promise<number> {
  const reason = (t.spec.select as { referenced?: boolean }).referenced ? 'referenced' : null;
  const mapped = isMapped(t) || (r !== undefined && keyRewritten(t, r, names));
  const keyOf = (alias: string, cols: string[]) =>
    keyArray(
      cols.map((c) => `${alias}.${c}`),
      t.key.map((k) => t.columns.find((c) => c.name === k)!.type),
    );
  const pairs = isMapped(t) ? names.map(t.index) : r !== undefined && mapped ? `(${stagedPairs(t, r, names)})` : null;
  const rows = pairs
    ? `SELECT m.outcome, ${keyOf(
        'm',
        t.key.map((_, i) => `o${i}`),
      )} AS o, ${keyOf(
        'm',
        t.key.map((_, i) => `n${i}`),
      )} AS n FROM ${pairs} m`
    : `SELECT 'moved'::text AS outcome, ${keyOf('s', t.key.map(ident))} AS o FROM ${names.data(t.index, t.name)} s`;
  // The two arrays are aggregated in one pass over the same rows: element i of each is the same row.
  const res = await db.query(
    `INSERT INTO cutover.published_keys (run_key, table_name, outcome, reason, old_keys, new_keys)
     SELECT $1, $2, outcome, $3::text, to_jsonb(array_agg(o)), ${mapped ? 'to_jsonb(array_agg(n))' : 'NULL'}
       FROM (SELECT r.*, (row_number() OVER ()) / ${CHUNK} AS g FROM (${rows}) r) x
      GROUP BY outcome, g`,
    [runKey, t.name, reason],
  );
  return res.rowCount ?? 0;
}

/** Keys per cutover.published_keys row: large enough that a row costs little, small enough to read back cheaply. */
const CHUNK = 10000;

/**
 * One row's key as a SQL array whose JSON form equals jsonb_build_array(key…): a typed array when the
 * key's columns share a type (array_agg + to_jsonb of those is an order of magnitude cheaper than
 * jsonb_agg of jsonb_build_array), else an array of jsonb values.
 */
export function keyArray(exprs: string[], types: string[]): string {
  return new Set(types).size === 1 ? `ARRAY[${exprs.join(', ')}]` : `ARRAY[${exprs.map((e) => `to_jsonb(${e})`).join(', ')}]`;
}
