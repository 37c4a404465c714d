// How a big table's selected rows are split across lanes: physical block ranges by ctid, read on
// connections sharing one snapshot. Why blocks and not key ranges: every table has a ctid whatever
// its key (composite, text, uuid, none), PostgreSQL >= 14 reads a ctid range as a TID Range Scan
// (only those blocks), and a row visible in a snapshot has exactly one visible version at one ctid,
// so ranges [lo, hi) cut at the same block numbers are disjoint. The first part has no lower bound
// and the last no upper bound, so together they are complete whatever the relation's size is now
// (pg_relation_size is not transactional: it is read once, and only places the cuts).
import type { Client } from 'pg';
import type { ResolvedTable } from './resolve';
import { qualified } from './connect';

/** One part of a table: blocks [lo, hi); null = unbounded on that side. */
export interface TablePart {
  i: number;
  of: number;
  lo: number | null;
  hi: number | null;
}

/**
 * A part is at least this many blocks (2 MB at the default 8 kB block, some 20 000 rows of a narrow
 * table): below that another query (its semi-joins over the parents' selection run once per part)
 * and another COPY cost about what they save.
 */
export const SPLIT_MIN_BLOCKS = 256;

/** TID Range Scan (PostgreSQL 14): older servers would read the whole table once per part. */
const TID_RANGE_SCAN = 140000;

const block = (n: number) => {
  // Spliced, so checked here: a block number is a non-negative safe integer and nothing else.
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a block number: ${n}`);
  return `'(${n},0)'::tid`;
};

/** The condition on the table's own alias that keeps this part's rows ('TRUE' for a whole table). */
export function partCondition(alias: string, part: TablePart): string {
  const c: string[] = [];
  if (part.lo !== null) c.push(`${alias}.ctid >= ${block(part.lo)}`);
  if (part.hi !== null) c.push(`${alias}.ctid < ${block(part.hi)}`);
  return c.length ? c.join(' AND ') : 'TRUE';
}

/** `n` parts of `blocks` blocks: equal block ranges, the outer ends open. */
export function cutBlocks(blocks: number, n: number): TablePart[] {
  const at = (k: number) => Math.floor((blocks * k) / n);
  return Array.from({ length: n }, (_, i) => ({ i, of: n, lo: i === 0 ? null : at(i), hi: i === n - 1 ? null : at(i + 1) }));
}

/**
 * The parts of each table for `lanes` lanes, read on `src` (in the run's snapshot): see relationParts.
 */
export async function planParts(
  src: Client,
  tables: ResolvedTable[],
  lanes: number,
  minBlocks = SPLIT_MIN_BLOCKS,
): Promise<Map<string, TablePart[]>> {
  const parts = await relationParts(
    src,
    tables.map((t) => qualified(t.source.schema, t.source.name)),
    lanes,
    minBlocks,
  );
  return new Map(tables.map((t, i) => [t.name, parts[i]]));
}

/**
 * The parts of each relation (a quoted, qualified name; bound, never spliced) for `lanes` lanes: a
 * plain table of at least `minBlocks` blocks per part is split into up to `lanes` parts; a small one,
 * a partitioned table (its rows live in its partitions), a foreign table or an older server: one part.
 */
export async function relationParts(db: Client, relations: string[], lanes: number, minBlocks = SPLIT_MIN_BLOCKS): Promise<TablePart[][]> {
  const out: TablePart[][] = relations.map(() => [{ i: 0, of: 1, lo: null, hi: null }]);
  if (lanes <= 1 || relations.length === 0) return out;
  const res = await db.query<{ i: number; kind: string; blocks: string; version: number }>(
    `SELECT x.i::int AS i, c.relkind::text AS kind,
            (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::text AS blocks,
            current_setting('server_version_num')::int AS version
       FROM unnest($1::text[]) WITH ORDINALITY AS x(name, i) JOIN pg_class c ON c.oid = to_regclass(x.name)`,
    [relations],
  );
  for (const r of res.rows) {
    const blocks = Number(r.blocks);
    const n = Math.min(lanes, Math.floor(blocks / Math.max(1, minBlocks)));
    if (r.kind !== 'r' || r.version < TID_RANGE_SCAN || n < 2) continue;
    out[r.i - 1] = cutBlocks(blocks, n);
  }
  return out;
}
