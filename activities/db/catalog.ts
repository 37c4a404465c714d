// Catalog introspection: tables (incl. partitioned parents), columns and types, keys, FKs, sequences.
// Read as real schemas are: a sequence may be attached only by a column DEFAULT (dumps, explicit
// sequences, one sequence shared by tables); foreign keys may be declared on every partition
// instead of on the partitioned parent (the pre-PostgreSQL-11 way). Tables are keyed by their
// canonical spelling (plan/names.ts), never by splitting on dots.
import type { Client } from 'pg';
import { tableKey, type TableRef } from '../../plan/names';

export interface Column {
  name: string;
  type: string; // format_type(), usable in DDL and casts
  notNull: boolean;
  hasDefault: boolean;
  generated: boolean; // GENERATED ALWAYS AS (…) STORED: never copied
  identity: '' | 'a' | 'd'; // a = ALWAYS (needs OVERRIDING SYSTEM VALUE), d = BY DEFAULT
  /** The sequence behind the column (identity, serial/OWNED BY, or a nextval() DEFAULT), quoted and qualified. */
  sequence: string | null;
  /** A type of pg_catalog (exists on every server): a Pilot value of it can be staged on Production's server as it is. */
  builtinType?: boolean;
}

export interface ForeignKey {
  name: string;
  columns: string[];
  refTable: string; // tableKey() of the referenced table
  ref: TableRef;
  refColumns: string[];
  /** A validated constraint: PostgreSQL itself guarantees every row has its parent. */
  validated: boolean;
  /** Declared on partitions rather than on this partitioned parent. */
  onPartitions?: boolean;
  /** Partitions (qualified, quoted) that do not declare it: PostgreSQL does not enforce it there. */
  missingOn?: string[];
}

/**
 * An FK that some partitions of a partitioned table declare and others do not. It is treated as the
 * parent's FK (the column plainly references that table: not remapping it would corrupt data), and
 * preflight checks that the rows of the partitions without it satisfy it, refusing otherwise.
 */
export interface PartialForeignKey {
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  partitionsWith: string[];
  partitionsWithout: string[];
}

export interface Table {
  schema: string;
  name: string;
  qualified: string; // tableKey(): the canonical spelling, for messages and maps
  partitioned: boolean;
  columns: Column[];
  primaryKey: string[] | null;
  uniqueKeys: string[][]; // primary key first, then unique constraints/indexes
  foreignKeys: ForeignKey[];
  partialForeignKeys: PartialForeignKey[];
}

export type Catalog = Map<string, Table>;

const EXCLUDED =
  "n.nspname NOT IN ('pg_catalog','information_schema','cutover') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT LIKE 'cutover\\_stage\\_%'";

/** An FK constraint's (alias con) columns and referenced columns by name, in key order. */
const FK_COLUMNS = `(SELECT array_agg(a.attname::text ORDER BY u.ord) FROM unnest(con.conkey) WITH ORDINALITY u(n, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = u.n) AS cols`;
const FK_REF_COLUMNS = `(SELECT array_agg(a.attname::text ORDER BY u.ord) FROM unnest(con.confkey) WITH ORDINALITY u(n, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = u.n) AS refcols`;

export async function readCatalog(client: Client): Promise<Catalog> {
  const tables = await client.query<{ oid: number; schema: string; name: string; kind: string }>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r','p') AND NOT c.relispartition AND ${EXCLUDED}`,
  );
  const byOid = new Map<number, Table>();
  for (const t of tables.rows) {
    byOid.set(t.oid, {
      schema: t.schema,
      name: t.name,
      qualified: tableKey(t),
      partitioned: t.kind === 'p',
      columns: [],
      primaryKey: null,
      uniqueKeys: [],
      foreignKeys: [],
      partialForeignKeys: [],
    });
  }
  const oids = [...byOid.keys()];
  if (oids.length === 0) return new Map();

  const cols = await client.query<{
    oid: number;
    name: string;
    type: string;
    notnull: boolean;
    hasdef: boolean;
    generated: string;
    identity: string;
    seq: string | null;
    builtin: boolean;
  }>(
    `SELECT a.attrelid::int AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull, a.atthasdef AS hasdef, a.attgenerated::text AS generated,
            a.attidentity::text AS identity,
            (SELECT ty.typnamespace = 'pg_catalog'::regnamespace FROM pg_type ty WHERE ty.oid = a.atttypid) AS builtin,
            coalesce(pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname),
                     (SELECT quote_ident(sn.nspname) || '.' || quote_ident(sq.relname)
                        FROM pg_attrdef d
                        JOIN pg_depend dep ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid
                                          AND dep.refclassid = 'pg_class'::regclass
                        JOIN pg_class sq ON sq.oid = dep.refobjid AND sq.relkind = 'S'
                        JOIN pg_namespace sn ON sn.oid = sq.relnamespace
                       WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum
                         AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'
                       LIMIT 1)) AS seq
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  for (const c of cols.rows) {
    byOid.get(c.oid)!.columns.push({
      name: c.name,
      type: c.type,
      notNull: c.notnull,
      hasDefault: c.hasdef || c.identity !== '',
      generated: c.generated !== '',
      identity: c.identity as Column['identity'],
      sequence: c.seq,
      builtinType: c.builtin,
    });
  }

  // Keys from constraints and from unique indexes without a constraint (both make a key usable).
  const keys = await client.query<{ oid: number; kind: string; cols: string[] }>(
    `SELECT i.indrelid::int AS oid, CASE WHEN i.indisprimary THEN 'p' ELSE 'u' END AS kind,
            array_agg(a.attname::text ORDER BY k.ord) AS cols
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = ANY($1::oid[]) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
      GROUP BY i.indexrelid, i.indrelid, i.indisprimary
      ORDER BY i.indisprimary DESC, i.indexrelid`,
    [oids],
  );
  for (const k of keys.rows) {
    const t = byOid.get(k.oid)!;
    if (k.kind === 'p') t.primaryKey = k.cols;
    t.uniqueKeys.push(k.cols);
  }

  const fks = await client.query<{
    oid: number;
    name: string;
    cols: string[];
    refschema: string;
    reftable: string;
    refcols: string[];
    validated: boolean;
  }>(
    `SELECT con.conrelid::int AS oid, con.conname AS name, con.convalidated AS validated,
            ${FK_COLUMNS},
            rn.nspname AS refschema, rc.relname AS reftable,
            ${FK_REF_COLUMNS}
       FROM pg_constraint con
       JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.contype = 'f' AND con.conrelid = ANY($1::oid[]) AND con.conparentid = 0
      ORDER BY con.conrelid, con.conname`,
    [oids],
  );
  for (const f of fks.rows) {
    const ref = { schema: f.refschema, name: f.reftable };
    byOid
      .get(f.oid)!
      .foreignKeys.push({ name: f.name, columns: f.cols, refTable: tableKey(ref), ref, refColumns: f.refcols, validated: f.validated });
  }
  await readPartitionForeignKeys(client, byOid);

  return new Map([...byOid.values()].map((t) => [t.qualified, t]));
}

/**
 * FKs declared on the leaf partitions of each partitioned table. One that every leaf declares (same
 * columns, same referenced key) is the parent's FK in all but name; one that only some declare is
 * recorded as partial, naming the partitions without it.
 */
async function readPartitionForeignKeys(client: Client, byOid: Map<number, Table>): Promise<void> {
  const parents = [...byOid.entries()].filter(([, t]) => t.partitioned).map(([oid]) => oid);
  if (parents.length === 0) return;
  const res = await client.query<{
    parent: number;
    leaf: string;
    name: string | null;
    validated: boolean | null;
    cols: string[] | null;
    refschema: string | null;
    reftable: string | null;
    refcols: string[] | null;
  }>(
    `SELECT p.oid::int AS parent, quote_ident(ln.nspname) || '.' || quote_ident(l.relname) AS leaf,
            con.conname AS name, con.convalidated AS validated,
            ${FK_COLUMNS},
            rn.nspname AS refschema, rc.relname AS reftable,
            ${FK_REF_COLUMNS}
       FROM pg_class p
       CROSS JOIN LATERAL pg_partition_tree(p.oid) pt
       JOIN pg_class l ON l.oid = pt.relid AND pt.isleaf AND l.oid <> p.oid
       JOIN pg_namespace ln ON ln.oid = l.relnamespace
       LEFT JOIN pg_constraint con ON con.conrelid = l.oid AND con.contype = 'f'
       LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE p.oid = ANY($1::oid[])
      ORDER BY 1, 2, 3`,
    [parents],
  );
  for (const oid of parents) {
    const t = byOid.get(oid)!;
    const mine = res.rows.filter((r) => r.parent === oid);
    const leaves = [...new Set(mine.map((r) => r.leaf))];
    const bySig = new Map<string, typeof mine>();
    for (const r of mine) {
      if (!r.name) continue;
      const ref = { schema: r.refschema!, name: r.reftable! };
      const sig = JSON.stringify([r.cols, tableKey(ref), r.refcols]);
      // Already the parent's own FK (cloned onto the partition): nothing to add.
      if (t.foreignKeys.some((f) => JSON.stringify([f.columns, f.refTable, f.refColumns]) === sig)) continue;
      bySig.set(sig, [...(bySig.get(sig) ?? []).filter((x) => x.leaf !== r.leaf), r]);
    }
    for (const rows of bySig.values()) {
      const r = rows[0];
      const ref = { schema: r.refschema!, name: r.reftable! };
      const have = rows.map((x) => x.leaf);
      const without = leaves.filter((l) => !have.includes(l));
      const every = without.length === 0;
      t.foreignKeys.push({
        name: `${r.name} (on ${every ? 'every partition' : `${have.length} of ${leaves.length} partitions`})`,
        columns: r.cols!,
        refTable: tableKey(ref),
        ref,
        refColumns: r.refcols!,
        // Only a constraint on every partition is a guarantee PostgreSQL keeps.
        validated: every && rows.every((x) => x.validated),
        onPartitions: true,
        ...(every ? {} : { missingOn: without }),
      });
      if (!every)
        t.partialForeignKeys.push({
          name: r.name!,
          columns: r.cols!,
          refTable: tableKey(ref),
          refColumns: r.refcols!,
          partitionsWith: have,
          partitionsWithout: without,
        });
    }
  }
}

/** Unquoted names fold to lower case, as in SQL: point at the spelling that exists. */
export function didYouMean(cat: Catalog, name: string): string {
  const fold = (s: string) => s.replace(/"/g, '').toLowerCase();
  const near = [...cat.keys()].filter((k) => fold(k) === fold(name) && k !== name);
  return near.length
    ? ` (did you mean ${near.join(' or ')}? Write names with capitals, spaces or dots in double quotes, as PostgreSQL does)`
    : '';
}
