// Conflicts predicted from every unique constraint, unique index and exclusion constraint of a
// Production plan table, not only its key: computed on the rows publish would insert, with their
// Production values (foreign keys and keys mapped: activities/db/row-identity.ts insertedRows), each
// named. Expression indexes and partial indexes are read from the catalog and evaluated as
// PostgreSQL itself would: a partial index's predicate is applied to both sides (a row outside it
// never conflicts), NULLs conflict only under NULLS NOT DISTINCT. An index using a column the plan
// does not copy is left out (publish would write its default: not predicted).
import type { Client } from 'pg';
import type { UniqueConflict } from '../../common/results';
import { ident, qualified } from '../db/connect';
import { ownRowsFrom, type MappedRows } from '../db/remap';
import type { ResolvedTable } from '../db/resolve';

export interface ProductionUnique {
  name: string;
  kind: UniqueConflict['kind'];
  /** The index's key expressions, as pg_get_indexdef prints them (unqualified column references). */
  exprs: string[];
  /** Exclusion constraints: each expression's operator (schema-qualified); unique: null (equality). */
  ops: (string | null)[];
  pred: string | null;
  /** Every column the expressions and the predicate read. */
  columns: string[];
  nullsNotDistinct: boolean;
}

const OPERATOR = /^[+\-*/<>=~!@#%^&|`?]+$/;

/** Production's unique and exclusion indexes of `t` (valid ones), in name order. */
export async function productionUniques(db: Client, t: ResolvedTable): Promise<ProductionUnique[]> {
  const res = await db.query<{
    name: string;
    contype: string | null;
    exprs: string[];
    pred: string | null;
    cols: string[];
    nnd: boolean;
    opnsp: string[] | null;
    opname: string[] | null;
  }>(
    `SELECT c.relname AS name, con.contype::text AS contype,
            array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k ORDER BY k) AS exprs,
            pg_get_expr(i.indpred, i.indrelid, true) AS pred,
            array(SELECT DISTINCT a.attname::text FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
                  UNION SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[]) AND a.attnum > 0) AS cols,
            coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS nnd,
            (SELECT array_agg(n.nspname::text ORDER BY o.ord) FROM unnest(con.conexclop) WITH ORDINALITY o(op, ord) JOIN pg_operator x ON x.oid = o.op JOIN pg_namespace n ON n.oid = x.oprnamespace) AS opnsp,
            (SELECT array_agg(x.oprname::text ORDER BY o.ord) FROM unnest(con.conexclop) WITH ORDINALITY o(op, ord) JOIN pg_operator x ON x.oid = o.op) AS opname
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
      WHERE i.indrelid = $1::regclass AND i.indisvalid AND (i.indisunique OR con.contype = 'x')
      ORDER BY c.relname`,
    [qualified(t.target.schema, t.target.name)],
  );
  return res.rows.map((x) => ({
    name: x.name,
    kind: x.contype === 'p' ? 'primary key' : x.contype === 'u' ? 'unique' : x.contype === 'x' ? 'exclusion' : 'unique index',
    exprs: x.exprs,
    ops: x.exprs.map((_, i) =>
      x.opname && x.opnsp && OPERATOR.test(x.opname[i]) ? `OPERATOR(${ident(x.opnsp[i])}.${x.opname[i]})` : null,
    ),
    pred: x.pred,
    columns: x.cols,
    nullsNotDistinct: x.nnd,
  }));
}

/**
 * Per index of `uniques` that the rows to insert would break: rows whose values Production already
 * holds (existing) and rows repeating an earlier one among themselves (duplicates; not for exclusion
 * constraints). `rows` are the rows to insert (from, Production-valued exprs, movedOnly).
 */
export async function uniqueConflicts(
  db: Client,
  t: ResolvedTable,
  rows: MappedRows,
  uniques: ProductionUnique[],
  staged: Set<string>,
): Promise<UniqueConflict[]> {
  const out: UniqueConflict[] = [];
  const prod = qualified(t.target.schema, t.target.name);
  for (const u of uniques) {
    if (u.kind === 'exclusion' && u.ops.some((o) => o === null)) continue;
    if (!u.columns.every((c) => staged.has(c) && rows.exprs.has(c))) continue;
    // The inserted rows under Production's column names, so the index's own expressions and
    // predicate (unqualified column references) evaluate on them as they would on the stored row.
    const type = (c: string) => t.columns.find((x) => x.name === c)!.type;
    const from = ownRowsFrom(
      rows,
      u.columns.map((c) => rows.exprs.get(c)!),
    );
    const x = `SELECT ${u.columns.map((c) => `(${rows.exprs.get(c)})::${type(c)} AS ${ident(c)}`).join(', ')} FROM ${from} WHERE ${rows.movedOnly}`;
    const slot = (i: number) => ident(`__cutover_u${i}`);
    const y = `SELECT ${u.exprs.map((e, i) => `(${e}) AS ${slot(i)}`).join(', ')} FROM (${x}) x WHERE ${u.pred ?? 'TRUE'}`;
    const notNull = u.nullsNotDistinct || u.kind === 'exclusion' ? 'TRUE' : u.exprs.map((_, i) => `y.${slot(i)} IS NOT NULL`).join(' AND ');
    const cmp = u.exprs
      .map((e, i) =>
        u.ops[i]
          ? `(${e}) ${u.ops[i]} y.${slot(i)}`
          : u.nullsNotDistinct
            ? `(${e}) IS NOT DISTINCT FROM y.${slot(i)}`
            : `(${e}) = y.${slot(i)}`,
      )
      .join(' AND ');
    // Inside EXISTS the unqualified references resolve to the Production row p (the innermost FROM).
    const existing = `SELECT count(*)::int AS n FROM (${y}) y WHERE ${notNull} AND EXISTS (SELECT 1 FROM ${prod} p WHERE ${cmp} AND (${u.pred ?? 'TRUE'}))`;
    const slots = u.exprs.map((_, i) => `y.${slot(i)}`).join(', ');
    const dup =
      u.kind === 'exclusion'
        ? null
        : `SELECT coalesce(sum(n - 1), 0)::int AS n FROM (SELECT count(*) AS n FROM (${y}) y WHERE ${notNull} GROUP BY ${slots} HAVING count(*) > 1) d`;
    const e = (await db.query<{ n: number }>(existing)).rows[0].n;
    const d = dup ? (await db.query<{ n: number }>(dup)).rows[0].n : 0;
    if (e + d > 0) out.push({ constraint: u.name, kind: u.kind, columns: u.exprs.join(', '), existing: e, duplicates: d });
  }
  return out;
}

/** One line per conflict, for warnings and refusals (names only, never values). */
export function describeConflict(table: string, c: UniqueConflict): string {
  const parts = [
    c.existing > 0 ? `${c.existing} row(s) whose values production already holds` : '',
    c.duplicates > 0 ? `${c.duplicates} duplicate(s) among the rows to insert` : '',
  ].filter(Boolean);
  return `${table}: ${c.kind} ${c.constraint} (${c.columns}): ${parts.join(', ')}: publish will refuse them`;
}
