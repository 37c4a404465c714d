// Order-independent content checksum: row count plus the sum of 64-bit prefixes of each row's md5.
// Computed in PostgreSQL so nothing row-sized crosses the wire.
import type { Client } from 'pg';
import { ident } from './connect';

export const columnsOf = (alias: string, columns: string[]) => columns.map((c) => `${alias}.${ident(c)}`);

export function rowHashSql(exprs: string[]): string {
  return `('x' || left(md5(ROW(${exprs.join(', ')})::text), 16))::bit(64)::bigint`;
}

/**
 * A cheaper 64-bit row hash, only for checksums computed and compared in one statement (validate's
 * published rows against their staged source); checksums that are stored and compared later
 * (validation.preExisting: full, rollback) keep md5, so a run that spans an upgrade still compares
 * like with like. The row is hashed as a record (each column by its type's own hash function, no text
 * rendering: about 2× cheaper than hashing its text, 5× than md5); a column whose type has no hash
 * function, or one this does not know, is hashed as its text. `types[i]` is the column's type in
 * production: both sides of a comparison pass the same types, so their hashes agree.
 */
export function fastRowHashSql(exprs: string[], types: string[]): string {
  return `hash_record_extended(ROW(${exprs.map((e, i) => (HASHABLE.test(types[i]) ? e : `(${e})::text`)).join(', ')}), 0)`;
}

/** Built-in types with a default hash operator class (arrays of them too), as the catalog names them. */
const HASHABLE =
  /^(smallint|integer|bigint|numeric|real|double precision|boolean|text|character varying|character|name|uuid|bytea|date|time without time zone|time with time zone|timestamp without time zone|timestamp with time zone|interval|jsonb|inet|cidr|macaddr|oid)(\(\d+(,\s*\d+)?\))?(\[\])*$/;

/**
 * `from` is a FROM clause (tables, joins, optional WHERE); `exprs` the row's values in column order.
 * sum() of bigints adds in 128-bit integers and returns numeric: the same exact sum as casting each
 * hash to numeric first (as every checksum and digest here once did), without a numeric addition per row.
 */
export async function checksum(client: Client, from: string, exprs: string[]): Promise<string> {
  const r = await client.query<{ n: string; s: string }>(
    `SELECT count(*)::text AS n, coalesce(sum(${rowHashSql(exprs)}), 0)::text AS s FROM ${from}`,
  );
  return `${r.rows[0].n}:${r.rows[0].s}`;
}
