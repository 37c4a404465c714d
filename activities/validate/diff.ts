// Localise differing rows between two row sets, data-diff style: compare per-bucket checksums
// first (one aggregate each side), then compare row hashes only inside the buckets that differ.
import type { Client } from 'pg';
import type { ResolvedTable } from '../db/resolve';
import { rowHashSql } from '../db/checksum';

export interface RowSet {
  from: string; // FROM clause
  exprs: string[]; // row values in column order
  key: string[]; // key expressions
}

const BUCKETS = 256; // a power of two: the bucket is the hash's low bits
const LIMIT = 100;

export async function localiseDifferences(db: Client, t: ResolvedTable, a: RowSet, b: RowSet): Promise<string[]> {
  const bucketed = (s: RowSet) =>
    // A bit mask, not abs(h) % n: abs(int4) overflows for the hash -2147483648.
    `SELECT hashtext(ROW(${s.key.join(', ')})::text) & ${BUCKETS - 1} AS bucket, ROW(${s.key.join(', ')})::text AS k, ${rowHashSql(s.exprs)} AS h FROM ${s.from}`;
  const res = await db.query<{ k: string }>(
    `WITH a AS (${bucketed(a)}), b AS (${bucketed(b)}),
          diff AS (SELECT bucket FROM (SELECT bucket, count(*) AS n, sum(h) AS s FROM a GROUP BY bucket) x
                   FULL JOIN (SELECT bucket, count(*) AS n, sum(h) AS s FROM b GROUP BY bucket) y USING (bucket)
                   WHERE x.n IS DISTINCT FROM y.n OR x.s IS DISTINCT FROM y.s)
     SELECT coalesce(a.k, b.k) AS k
       FROM (SELECT * FROM a WHERE bucket IN (SELECT bucket FROM diff)) a
       FULL JOIN (SELECT * FROM b WHERE bucket IN (SELECT bucket FROM diff)) b ON a.k = b.k
      WHERE a.h IS DISTINCT FROM b.h
      ORDER BY 1 LIMIT ${LIMIT}`,
  );
  return res.rows.map((r) => `(${t.key.join(', ')})=${r.k}`);
}
