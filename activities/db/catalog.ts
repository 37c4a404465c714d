// Catalog introspection: tables (incl. partitioned parents), columns and types, keys, FKs, sequences.
import type { Client } from 'pg';

export interface Column {
  name: string;
  type: string; // format_type(), usable in DDL and casts
  notNull: boolean;
  hasDefault: boolean;
  generated: boolean; // GENERATED ALWAYS AS (…) STORED: never copied
  identity: '' | 'a' | 'd'; // a = ALWAYS (needs OVERRIDING SYSTEM VALUE), d = BY DEFAULT
  sequence: string | null; // owned sequence (serial or identity), qualified
}

export interface ForeignKey {
  name: string;
  columns: string[];
  refTable: string; // schema.table
  refColumns: string[];
  /** A validated constraint: PostgreSQL itself guarantees every row has its parent. */
  validated: boolean;
}

export interface Table {
  schema: string;
  name: string;
  qualified: string; // schema.table (unquoted, for messages and maps)
  partitioned: boolean;
  columns: Column[];
  primaryKey: string[] | null;
  uniqueKeys: string[][]; // primary key first, then unique constraints/indexes
  foreignKeys: ForeignKey[];
}

export type Catalog = Map<string, Table>;

const EXCLUDED = "n.nspname NOT IN ('pg_catalog','information_schema','cutover') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT LIKE 'cutover\\_stage\\_%'";

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
      qualified: `${t.schema}.${t.name}`,
      partitioned: t.kind === 'p',
      columns: [],
      primaryKey: null,
      uniqueKeys: [],
      foreignKeys: [],
    });
  }
  const oids = [...byOid.keys()];
  if (oids.length === 0) return new Map();

  const cols = await client.query<{
    oid: number; name: string; type: string; notnull: boolean; hasdef: boolean; generated: string; identity: string; seq: string | null;
  }>(
    `SELECT a.attrelid::int AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull, a.atthasdef AS hasdef, a.attgenerated::text AS generated,
            a.attidentity::text AS identity,
            pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) AS seq
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

  const fks = await client.query<{ oid: number; name: string; cols: string[]; refschema: string; reftable: string; refcols: string[]; validated: boolean }>(
    `SELECT con.conrelid::int AS oid, con.conname AS name, con.convalidated AS validated,
            (SELECT array_agg(a.attname::text ORDER BY u.ord) FROM unnest(con.conkey) WITH ORDINALITY u(n, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = u.n) AS cols,
            rn.nspname AS refschema, rc.relname AS reftable,
            (SELECT array_agg(a.attname::text ORDER BY u.ord) FROM unnest(con.confkey) WITH ORDINALITY u(n, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = u.n) AS refcols
       FROM pg_constraint con
       JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.contype = 'f' AND con.conrelid = ANY($1::oid[]) AND con.conparentid = 0
      ORDER BY con.conrelid, con.conname`,
    [oids],
  );
  for (const f of fks.rows) {
    byOid.get(f.oid)!.foreignKeys.push({
      name: f.name,
      columns: f.cols,
      refTable: `${f.refschema}.${f.reftable}`,
      refColumns: f.refcols,
      validated: f.validated,
    });
  }

  return new Map([...byOid.values()].map((t) => [t.qualified, t]));
}

/** `name` means public.name; `schema.name` as written. */
export function qualifyName(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
}
