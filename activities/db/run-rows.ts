// The production rows one run inserted, by key, as the run recorded them: the Production key of
// every moved row (activities/db/row-identity.ts: id map's new_key for new/match and for keep tables
// keyed by remapped parents, the manifest's key for other keep tables; merged rows were production's
// own and are never ours). Loaded into a
// session temp table per table (dropped with the transaction) so every step of a rollback joins
// the same key set.
import type { Client } from 'pg';
import { ident, qualified } from './connect';
import { slotsEqual } from './keys';
import type { ResolvedTable } from './resolve';
import { persistedInsertedKeys } from './row-identity';

/** pg_temp table of table #index's inserted keys: columns k0, k1, … in key order. */
export const runRowsTable = (t: ResolvedTable) => `pg_temp.${ident(`cutover_rb_${t.index}`)}`;

/** `prod p JOIN keys r`: the run's rows still in production (alias p). */
export const runRowsFrom = (t: ResolvedTable) =>
  `${qualified(t.target.schema, t.target.name)} p JOIN ${runRowsTable(t)} r ON ${slotsEqual('r', 'k', 'p', t.key)}`;

/** Fill the key table inside the current transaction; returns how many rows the run inserted. */
export async function loadRunRows(db: Client, runKey: string, t: ResolvedTable): Promise<number> {
  const type = (k: string) => t.columns.find((c) => c.name === k)!.type;
  const cols = t.key.map((k, i) => `k${i} ${type(k)}`).join(', ');
  await db.query(`CREATE TEMP TABLE ${ident(`cutover_rb_${t.index}`)} (${cols}) ON COMMIT DROP`);
  const res = await db.query(`INSERT INTO ${runRowsTable(t)} ${persistedInsertedKeys(t)}`, [runKey, t.name]);
  await db.query(`ANALYZE ${runRowsTable(t)}`);
  return res.rowCount ?? 0;
}
