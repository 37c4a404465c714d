// The rows a verified target backup holds for the plan's tables, brought into a production session
// for rollback by restore: the object is re-read, re-hashed and restored (restoreTables) into the
// scratch database cutover_restore_<runKey> on the target's server (always dropped), and each plan
// table's rows are streamed with COPY from there into a session temp table on production
// (pg_temp.cutover_bk_<index>, dropped with the transaction). Preview and restore compare and load
// from the same tables; no dblink, no file on disk. Sequence values are read from the scratch copy.
import type { Client } from 'pg';
import { parseTableName } from '../../plan/names';
import type { BackupObject } from '../../common/results';
import { backupError } from '../errors';
import { connect, ident, qualified } from './connect';
import { copyQuery } from './copy';
import { restoreTables } from './restore-tables';
import type { Resolved, ResolvedTable } from './resolve';
import { withScratchDatabase } from './scratch-db';

export const restoreScratchName = (runKey: string) => `cutover_restore_${runKey}`;

/** pg_temp table of table t's backup rows (its copied columns). */
export const backupRowsTable = (t: ResolvedTable) => `pg_temp.${ident(`cutover_bk_${t.index}`)}`;

/** Columns a restore writes: every target column but generated ones (PostgreSQL computes those). */
export const restoredColumns = (t: ResolvedTable) => t.target.columns.filter((c) => !c.generated).map((c) => c.name);

/** The backup's snapshot count of a plan table (a partitioned table's counts all its partitions). */
export function backupCount(b: BackupObject, t: ResolvedTable): number {
  const entry = b.tables.find((x) => x.table === t.target.qualified && !x.partitionOf);
  if (!entry) throw backupError(`backup object ${b.location} does not hold ${t.target.qualified}`);
  return entry.rows;
}

export interface BackupSequence {
  sequence: string; // canonical name
  qualified: string; // quoted, for SQL
  next: number; // what nextval() would return at the backup
}

/**
 * Restore `b` into the scratch database, then run `fn` with a client on it. The scratch database
 * is dropped when `fn` ends, so `fn` copies what it needs into production first.
 */
export async function withRestoredBackup<T>(
  serverUrl: string,
  runKey: string,
  b: BackupObject,
  fn: (scratch: Client, sha256: string) => Promise<T>,
): Promise<T> {
  if (!/^[a-z0-9]{1,40}$/.test(runKey))
    throw backupError(`restore: run key ${JSON.stringify(runKey)} must be 1 to 40 lowercase letters or digits`);
  return withScratchDatabase(serverUrl, restoreScratchName(runKey), async (url) => {
    const restored = await restoreTables(b, url, { mode: 'new-database' });
    const scratch = await connect(url, 'cutover:restore');
    try {
      return await fn(scratch, restored.sha256);
    } finally {
      await scratch.end().catch(() => undefined);
    }
  });
}

/** Copy every plan table's backup rows into its session temp table on `db` (inside a transaction). */
export async function loadBackupRows(scratch: Client, db: Client, r: Resolved, b: BackupObject): Promise<Map<string, number>> {
  const loaded = new Map<string, number>();
  for (const t of r.tables) {
    const cols = restoredColumns(t);
    const list = cols.map(ident).join(', ');
    // Production's own column types, no constraints: the rows as the backup holds them.
    await db.query(
      `CREATE TEMP TABLE ${ident(`cutover_bk_${t.index}`)} ON COMMIT DROP AS SELECT ${list} FROM ${qualified(t.target.schema, t.target.name)} WITH NO DATA`,
    );
    const n = await copyQuery(scratch, `SELECT ${list} FROM ${qualified(t.target.schema, t.target.name)}`, db, backupRowsTable(t), cols);
    const expected = backupCount(b, t);
    if (n !== expected) throw backupError(`backup object ${b.location}: ${t.name} restored ${n} rows, its snapshot counted ${expected}`);
    await db.query(`ANALYZE ${backupRowsTable(t)}`);
    loaded.set(t.name, n);
  }
  return loaded;
}

/** The backup's sequence values, as restored into the scratch database. */
export async function backupSequences(scratch: Client, b: BackupObject): Promise<BackupSequence[]> {
  const out: BackupSequence[] = [];
  for (const name of b.sequences) {
    const ref = parseTableName(name);
    if (typeof ref === 'string') throw backupError(`backup object ${b.location}: sequence name ${name} ${ref}`);
    const q = qualified(ref.schema, ref.name);
    const { rows } = await scratch.query<{ next: string }>(
      `SELECT (CASE WHEN is_called THEN last_value + 1 ELSE last_value END)::text AS next FROM ${q}`,
    );
    out.push({ sequence: name, qualified: q, next: Number(rows[0].next) });
  }
  return out;
}
