// Rows that are not this run's but reference this run's rows, through any foreign key in the
// target's catalog (from any table, the plan's or not, declared on a table or on a partition):
// production wrote them after publish, and deleting our rows would fail on them or cascade into
// them. A rollback lists them and stops instead.
import type { Client } from 'pg';
import { tableKey } from '../../plan/names';
import { ident, qualified } from './connect';
import { fkEquals, slotsEqual } from './keys';
import type { ResolvedTable } from './resolve';
import { runRowsFrom, runRowsTable } from './run-rows';

export interface ReferencingRow {
  table: string;
  key: string; // (pk columns)=(values), or the ctid where the table has no primary key
  fk: string;
  references: string; // the plan table whose (this run's) row it points at
}

// One row per foreign key pointing into a touched table or one of its partitions; a constraint
// cloned onto partitions (conparentid <> 0) is its parent's, already listed.
export const FKS_SQL = `
SELECT con.conname::text AS name, cn.nspname::text AS schema, cc.relname::text AS rel,
       coalesce(pg_partition_root(con.conrelid)::oid, con.conrelid)::int AS child_root,
       coalesce(pg_partition_root(con.confrelid)::oid, con.confrelid)::int AS ref_root,
       (SELECT array_agg(a.attname::text ORDER BY u.ord) FROM unnest(con.conkey) WITH ORDINALITY u(n, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = u.n) AS cols,
       (SELECT array_agg(a.attname::text ORDER BY u.ord) FROM unnest(con.confkey) WITH ORDINALITY u(n, ord)
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = u.n) AS refcols,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
          CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE i.indrelid = con.conrelid AND i.indisprimary) AS pk,
       con.confdeltype::text AS on_delete,
       -- Any of its RI triggers (on it or on the clones partitions carry) disabled: deleting a
       -- referenced row would then neither fail nor act, so only a check by rows can see it.
       (WITH RECURSIVE tree(oid) AS (SELECT con.oid UNION ALL SELECT c2.oid FROM pg_constraint c2 JOIN tree ON c2.conparentid = tree.oid)
        SELECT coalesce(bool_or(tg.tgenabled = 'D'), false) FROM pg_trigger tg WHERE tg.tgconstraint IN (SELECT oid FROM tree)) AS disabled
  FROM pg_constraint con JOIN pg_class cc ON cc.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
 WHERE con.contype = 'f' AND con.conparentid = 0 AND coalesce(pg_partition_root(con.confrelid)::oid, con.confrelid) = ANY($1::oid[])
 ORDER BY 2, 3, 1`;

export interface ReferencingFk {
  name: string;
  schema: string;
  rel: string;
  child_root: number;
  ref_root: number;
  cols: string[];
  refcols: string[];
  pk: string[] | null;
  on_delete: string; // pg_constraint.confdeltype: a no action, r restrict, c cascade, n set null, d set default
  disabled: boolean;
}

/**
 * Whether deleting a referenced row makes PostgreSQL itself refuse (23503) while the row that
 * references it exists: a NO ACTION or RESTRICT key whose triggers are enabled. Any other key would
 * cascade into, null out or silently orphan production's row, so only a check by rows beforehand sees it.
 */
export const refusesDelete = (fk: ReferencingFk) => (fk.on_delete === 'a' || fk.on_delete === 'r') && !fk.disabled;

/** Every FK in the catalog that points at one of `tables` (by their partition roots), with the tables by oid. */
export async function fksReferencing(
  db: Client,
  tables: ResolvedTable[],
): Promise<{ byOid: Map<number, ResolvedTable>; fks: ReferencingFk[] }> {
  const oids = await db.query<{ oid: number }>(
    'SELECT to_regclass(q)::oid::int AS oid FROM unnest($1::text[]) WITH ORDINALITY x(q, i) ORDER BY i',
    [tables.map((t) => qualified(t.target.schema, t.target.name))],
  );
  const byOid = new Map(tables.map((t, i) => [oids.rows[i].oid, t]));
  return { byOid, fks: (await db.query<ReferencingFk>(FKS_SQL, [[...byOid.keys()]])).rows };
}

/**
 * Up to `limit` such rows (and whether there are more), through the keys `which` keeps (all by
 * default); the run's key tables must be loaded.
 */
export async function rowsReferencingRun(
  db: Client,
  tables: ResolvedTable[],
  limit: number,
  which: (fk: ReferencingFk) => boolean = () => true,
): Promise<{ rows: ReferencingRow[]; more: boolean }> {
  const { byOid, fks: all } = await fksReferencing(db, tables);
  const fks = all.filter(which);
  const rows: ReferencingRow[] = [];
  if (fks.length === 0) return { rows, more: false };
  await indexRunRows(db, tables);
  for (const fk of fks) {
    if (rows.length > limit) break;
    const parent = byOid.get(fk.ref_root)!;
    const child = byOid.get(fk.child_root); // a plan table: its own rows of this run are not in the way
    const key = child?.key ?? fk.pk;
    const keyJson = key ? `jsonb_build_array(${key.map((k) => `c.${ident(k)}`).join(', ')})` : 'jsonb_build_array(c.ctid::text)';
    // MATERIALIZED: the CTE is planned for all its rows, so the LIMIT cannot pick a fast-start
    // nested loop (which rescanned the run's keys for every row: quadratic); it still stops early.
    const res = await db.query<{ k: unknown[] }>(
      `WITH b AS MATERIALIZED (SELECT ${keyJson} AS k FROM ${qualified(fk.schema, fk.rel)} c
        WHERE EXISTS (SELECT 1 FROM ${runRowsFrom(parent)} WHERE ${fkEquals({ columns: fk.cols, refColumns: fk.refcols }, 'p', 'c')})
          ${child ? `AND NOT EXISTS (SELECT 1 FROM ${runRowsTable(child)} o WHERE ${slotsEqual('o', 'k', 'c', child.key)})` : ''})
       SELECT k FROM b LIMIT ${limit + 1 - rows.length}`,
    );
    for (const r of res.rows) {
      rows.push({
        table: tableKey({ schema: fk.schema, name: fk.rel }),
        key: key ? `(${key.join(', ')})=(${r.k.join(', ')})` : `ctid ${r.k[0]}`,
        fk: fk.name,
        references: parent.name,
      });
    }
  }
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}

/**
 * An index on the run's key table of each plan table (the blocker queries join and anti-join them): with it every plan
 * the planner may choose for the check is a lookup per row (or a hash join), never a rescan of the
 * whole key set per row. Analyzed again so the planner sees the index and the table's size.
 */
async function indexRunRows(db: Client, tables: ResolvedTable[]): Promise<void> {
  for (const t of tables) {
    await db.query(
      `CREATE INDEX IF NOT EXISTS ${ident(`cutover_rb_${t.index}_k`)} ON ${runRowsTable(t)} (${t.key.map((_, i) => `k${i}`).join(', ')})`,
    );
    await db.query(`ANALYZE ${runRowsTable(t)}`);
  }
}
