// What a backup holds the rows of: the plan's tables (a partitioned table with every partition,
// which pg_dump 15 would not follow on its own) and the sequences their columns draw from (owned,
// identity, or only a nextval() DEFAULT). Read inside the dump's snapshot, so the list, the row
// counts and the dump agree. The dump keeps the whole schema (so it restores on its own into an
// empty database: `pg_dump -t` alone leaves out the types, schemas and functions tables need) and
// leaves out the data of everything else.
import type { Client } from 'pg';
import type { Plan } from '../../plan/schema';
import { parseTableName, tableKey, type TableRef } from '../../plan/names';
import type { BackupTable } from '../../common/results';
import { planIssue } from '../errors';
import { qualified } from '../db/connect';

export interface BackupScope {
  tables: (BackupTable & TableRef)[];
  sequences: (TableRef & { oid: number })[];
  /** --exclude-table-data patterns: every other table's, matview's and sequence's data. */
  excludeData: string[];
}

/** A pg_dump pattern matching exactly this relation: inside double quotes nothing is a wildcard. */
export const exactPattern = (r: TableRef) => `"${r.schema.replace(/"/g, '""')}"."${r.name.replace(/"/g, '""')}"`;

export async function readScope(client: Client, plan: Plan, alias: string, full: boolean): Promise<BackupScope> {
  // An archive (clean-start) accounts for every table of the database, not only the plan's.
  const refs =
    full && plan.strategy === 'clean-start'
      ? await everyTable(client)
      : plan.tables.map((t) => {
          // Production holds a mapped table's rows under its `into` name.
          const r = parseTableName(alias === plan.target ? (t.into ?? t.table) : t.table);
          if (typeof r === 'string') throw planIssue('tables', `backup: table name ${JSON.stringify(t.table)} ${r}`);
          return r;
        });
  const rels = await client.query<{ ord: string; oid: string; level: number; kind: string; schema: string; name: string }>(
    `WITH p AS (SELECT * FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(schema, name, ord)),
          root AS (SELECT p.ord, c.oid FROM p
                     JOIN pg_namespace n ON n.nspname = p.schema
                     JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.name AND c.relkind IN ('r', 'p')),
          tree AS (SELECT ord, oid AS relid, 0 AS level FROM root
                   UNION ALL
                   SELECT r.ord, t.relid, t.level FROM root r CROSS JOIN LATERAL pg_partition_tree(r.oid) t WHERE t.level > 0)
     SELECT tree.ord::text, tree.relid::oid::text AS oid, tree.level, c.relkind::text AS kind, n.nspname AS schema, c.relname AS name
       FROM tree JOIN pg_class c ON c.oid = tree.relid JOIN pg_namespace n ON n.oid = c.relnamespace
      ORDER BY tree.ord, tree.level, n.nspname, c.relname`,
    [refs.map((r) => r.schema), refs.map((r) => r.name)],
  );
  const missing = refs.filter((_, i) => !rels.rows.some((r) => Number(r.ord) === i + 1));
  if (missing.length) throw planIssue('tables', `backup: ${missing.map(tableKey).join(', ')} not found in ${alias}`);

  const tables: BackupScope['tables'] = rels.rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    table: tableKey(r),
    oid: Number(r.oid),
    rows: 0,
    hasData: r.kind === 'r',
    ...(r.level > 0 ? { partitionOf: tableKey(refs[Number(r.ord) - 1]) } : {}),
  }));
  const oids = tables.map((t) => String(t.oid));

  const seqs = await client.query<{ oid: string; schema: string; name: string }>(
    `SELECT DISTINCT s.oid::text AS oid, sn.nspname AS schema, s.relname AS name
       FROM pg_class s JOIN pg_namespace sn ON sn.oid = s.relnamespace
      WHERE s.relkind = 'S' AND s.oid IN (
              SELECT d.objid FROM pg_depend d          -- serial / identity: owned by the table
               WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                 AND d.refobjid = ANY($1::oid[]) AND d.deptype IN ('a', 'i')
              UNION
              SELECT d.refobjid FROM pg_attrdef ad      -- only a DEFAULT nextval('…')
                JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid = 'pg_class'::regclass
               WHERE ad.adrelid = ANY($1::oid[]))
      ORDER BY 2, 3`,
    [oids],
  );
  const sequences = seqs.rows.map((s) => ({ schema: s.schema, name: s.name, oid: Number(s.oid) }));

  let excludeData: string[] = [];
  if (!full) {
    const others = await client.query<TableRef>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'm', 'S', 'f') AND NOT (c.oid = ANY($1::oid[]))
          AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
        ORDER BY 1, 2`,
      [[...oids, ...sequences.map((s) => String(s.oid))]],
    );
    excludeData = others.rows.map(exactPattern);
  }
  return { tables, sequences, excludeData };
}

/** Row counts in the caller's transaction (the dump's snapshot); `onTable` reports progress. */
export async function countRows(client: Client, scope: BackupScope, onTable: (table: string) => void): Promise<void> {
  for (const t of scope.tables) {
    onTable(t.table);
    const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified(t.schema, t.name)}`);
    t.rows = Number(rows[0].n);
  }
}

/** Every user table of the database (partitions through their parents). */
async function everyTable(client: Client): Promise<TableRef[]> {
  const res = await client.query<TableRef>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 1, 2`,
  );
  return res.rows;
}
