// What the current transaction itself inserted, updated and deleted, per relation, from
// pg_stat_xact_user_tables (leaf partitions carry a partitioned table's counts). Other sessions'
// writes never show here, so this proves what a transaction did without assuming production is
// quiet. Read as a difference from a baseline taken at BEGIN: PostgreSQL 15 keeps counts of
// earlier, not yet flushed transactions of the same session in these views.
import type { Client } from 'pg';
import { tableKey } from '../../plan/names';
import type { TransactionCount } from '../../common/results';

export type Counts = Map<number, TransactionCount>;

/** Non-zero counts per relation, leaving out this session's own temp tables (bookkeeping). */
export async function xactCounts(db: Client): Promise<Counts> {
  const res = await db.query<{ oid: number; schema: string; name: string; ins: string; upd: string; del: string }>(
    `SELECT s.relid::int AS oid, s.schemaname::text AS schema, s.relname::text AS name,
            s.n_tup_ins::text AS ins, s.n_tup_upd::text AS upd, s.n_tup_del::text AS del
       FROM pg_stat_xact_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE s.n_tup_ins + s.n_tup_upd + s.n_tup_del > 0 AND c.relnamespace <> pg_my_temp_schema()`,
  );
  return new Map(
    res.rows.map((r) => [r.oid, { relation: tableKey(r), inserted: Number(r.ins), updated: Number(r.upd), deleted: Number(r.del) }]),
  );
}

/** `after - before`, relations with no change left out. */
export function countsSince(before: Counts, after: Counts): Counts {
  const out: Counts = new Map();
  for (const [oid, a] of after) {
    const b = before.get(oid);
    const d = {
      relation: a.relation,
      inserted: a.inserted - (b?.inserted ?? 0),
      updated: a.updated - (b?.updated ?? 0),
      deleted: a.deleted - (b?.deleted ?? 0),
    };
    if (d.inserted || d.updated || d.deleted) out.set(oid, d);
  }
  return out;
}

/** Each relation's oid → the plan table it belongs to (itself, or a partition of it, at any depth; pg_partition_tree lists nothing for a plain table). */
export async function tablesOfRelations(db: Client, tables: { name: string; regclass: string }[]): Promise<Map<number, string>> {
  const res = await db.query<{ table: string; oid: number }>(
    `SELECT t.name AS table, t.rel::regclass::oid::int AS oid FROM unnest($1::text[], $2::text[]) AS t(name, rel)
     UNION
     SELECT t.name, p.relid::oid::int FROM unnest($1::text[], $2::text[]) AS t(name, rel), pg_partition_tree(t.rel::regclass) p`,
    [tables.map((t) => t.name), tables.map((t) => t.regclass)],
  );
  return new Map(res.rows.map((r) => [r.oid, r.table]));
}
