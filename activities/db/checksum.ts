// Order-independent content checksum: row count plus the sum of 64-bit prefixes of each row's md5.
// Computed in PostgreSQL so nothing row-sized crosses the wire.
import type { Client } from 'pg';
import { ident } from './connect';

export const columnsOf = (alias: string, columns: string[]) => columns.map((c) => `${alias}.${ident(c)}`);

export function rowHashSql(exprs: string[]): string {
  return `('x' || left(md5(ROW(${exprs.join(', ')})::text), 16))::bit(64)::bigint`;
}

/**
 * The same sum over PostgreSQL's 64-bit text hash (the one hash partitioning relies on, so stable
 * across versions): about 2.5× cheaper than md5 per row. Only for checksums computed and compared in
 * one statement (validate's published rows against their staged source); checksums that are stored
 * and compared later (validation.preExisting: full, rollback) keep md5, so a run that spans an upgrade
 * still compares like with like.
 */
export function fastRowHashSql(exprs: string[]): string {
  return `hashtextextended(ROW(${exprs.join(', ')})::text, 0)`;
}

/** `from` is a FROM clause (tables, joins, optional WHERE); `exprs` the row's values in column order. */
export async function checksum(client: Client, from: string, exprs: string[]): Promise<string> {
  const r = await client.query<{ n: string; s: string }>(
    `SELECT count(*)::text AS n, coalesce(sum(${rowHashSql(exprs)}::numeric), 0)::text AS s FROM ${from}`,
  );
  return `${r.rows[0].n}:${r.rows[0].s}`;
}
