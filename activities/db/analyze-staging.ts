// Statistics for what a run stages. Autovacuum never analyzes temp tables and reaches new unlogged
// ones late: planned blind, the queries over them guess row counts off by orders of magnitude (hash vs
// index probes into Production chosen badly, sorts for merge joins of tables that fit a hash).
import type { Client } from 'pg';
import type { Resolved } from './resolve';
import type { StagingNames } from './staging';

/** ANALYZE `rels` with a small sample: row counts and rough distributions are all the plans need. */
export async function analyzeTables(db: Client, rels: string[]): Promise<void> {
  if (rels.length === 0) return;
  await db.query('SET default_statistics_target = 10');
  try {
    await db.query(`ANALYZE ${rels.join(', ')}`);
  } finally {
    await db.query('RESET default_statistics_target');
  }
}

/** The staged data and registers (cleanup's tables are still empty). */
export async function analyzeStaging(target: Client, r: Resolved, names: StagingNames): Promise<void> {
  const rels = r.tables.map((t) => names.data(t.index, t.name));
  if (r.rules.subjects) rels.push(names.consented(), names.erased());
  await analyzeTables(target, rels);
}
