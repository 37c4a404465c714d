// Order-independent content checksum: row count plus the sum of 64-bit prefixes of each row's md5.
// Computed in PostgreSQL so nothing row-sized crosses the wire.
import type { Client } from 'pg';
import { ident } from './connect';

export function rowHashSql(alias: string, columns: string[]): string {
  const row = columns.map((c) => `${alias}.${ident(c)}`).join(', ');
  return `('x' || left(md5(ROW(${row})::text), 16))::bit(64)::bigint::numeric`;
}

/** `from` is a FROM clause (tables/joins, optional WHERE) where `alias` names the rows to hash. */
export async function checksum(client: Client, from: string, alias: string, columns: string[]): Promise<string> {
  const r = await client.query<{ n: string; s: string }>(
    `SELECT count(*)::text AS n, coalesce(sum(${rowHashSql(alias, columns)}), 0)::text AS s FROM ${from}`,
  );
  return `${r.rows[0].n}:${r.rows[0].s}`;
}

export const checksumRows = (sum: string): number => Number(sum.split(':')[0]);
