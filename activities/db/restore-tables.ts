// Restore a verified backup into a database: what the backup step's verification does into a
// scratch database, and what rollback-by-restore and rehearsals build on. Before a byte is
// restored the object is re-read and re-hashed against the sha256 recorded when it was written,
// and its table of contents must hold every touched table: a backup that fails either is refused.
//   new-database: schema (pre-data) and data into an empty database; no indexes, constraints or
//                 triggers (post-data), which a partial backup's foreign keys would break.
//   data-only:    only the touched tables' rows and their sequences' values, into a database that
//                 already has the schema and whose touched tables are empty; one transaction.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseTableName } from '../../plan/names';
import { backupError, conflictError } from '../errors';
import { openStore, type BackupStore } from '../store';
import { digestOf } from '../store/digest';
import type { BackupObject } from '../../common/results';
import { connect, qualified } from './connect';
import { dataEntries, missingFromToc, readToc } from './dump-toc';
import { runTool, ToolError } from './pg-tools';
import type { Progress } from './progress';

export type Restorable = Pick<BackupObject, 'store' | 'key' | 'location' | 'sha256' | 'size' | 'tables' | 'sequences'>;
export type RestoreMode = 'new-database' | 'data-only';

export interface RestoreReport {
  mode: RestoreMode;
  sha256: string; // of the bytes re-read before restoring
  size: number;
  listed: number; // touched tables found in the table of contents
}

const COMMON = [
  '--no-owner',
  '--no-privileges',
  '--no-tablespaces',
  '--no-publications',
  '--no-subscriptions',
  '--no-security-labels',
  '--single-transaction',
  '--exit-on-error',
];

export async function restoreTables(
  backup: Restorable,
  into: string,
  opts: { mode?: RestoreMode; progress?: Progress } = {},
): Promise<RestoreReport> {
  const mode = opts.mode ?? 'new-database';
  const { progress } = opts;
  const store = openStore(backup.store);
  const { sha256, size } = await rehash(store, backup, progress);

  const toc = await readToc(store, backup.key, progress?.signal).catch((e) => {
    throw e instanceof ToolError ? backupError(`backup object ${backup.location} has no readable table of contents: ${e.message}`) : e;
  });
  const missing = missingFromToc(toc, backup);
  if (missing.length) throw backupError(`backup object ${backup.location} lacks ${missing.join(', ')}`, { missing });

  progress?.update({ phase: 'restoring' });
  const listDir = mode === 'data-only' ? await mkdtemp(path.join(os.tmpdir(), 'cutover-restore-')) : undefined;
  try {
    let args = ['--section=pre-data', '--section=data', ...COMMON];
    if (listDir) {
      await refuseNonEmpty(into, backup);
      const list = path.join(listDir, 'data.list');
      await writeFile(
        list,
        dataEntries(toc, backup)
          .map((e) => e.line)
          .join('\n') + '\n',
      );
      args = ['--data-only', `--use-list=${list}`, ...COMMON];
    }
    const tool = runTool('pg_restore', args, { url: into, stdin: await store.get(backup.key), signal: progress?.signal });
    tool.output.resume();
    await tool.done.catch((e) => {
      throw e instanceof ToolError
        ? backupError(`backup object ${backup.location} did not restore into database ${databaseOf(into)}: ${e.message}`)
        : e;
    });
  } finally {
    if (listDir) await rm(listDir, { recursive: true, force: true });
  }
  return { mode, sha256, size, listed: backup.tables.length };
}

/** Re-read the whole object and compare it, its size and its sidecar with what was recorded. */
async function rehash(store: BackupStore, backup: Restorable, progress?: Progress): Promise<{ sha256: string; size: number }> {
  progress?.update({ phase: 'verifying' });
  const head = await store.head(backup.key);
  if (!head) throw backupError(`backup object ${backup.location} is missing from the store`);
  const read = await digestOf(await store.get(backup.key), (bytes) => progress?.update({ bytes }));
  const differs: string[] = [];
  if (read.sha256 !== backup.sha256) differs.push(`its sha256 is ${read.sha256}, ${backup.sha256} when written`);
  if (read.size !== backup.size) differs.push(`it is ${read.size} bytes, ${backup.size} when written`);
  if (!head.meta) differs.push('its metadata sidecar is missing');
  else if (head.meta.sha256 !== backup.sha256) differs.push(`its metadata says sha256 ${head.meta.sha256}`);
  if (differs.length)
    throw backupError(`backup object ${backup.location} is corrupted: ${differs.join('; ')}`, {
      location: backup.location,
      expected: backup.sha256,
      actual: read.sha256,
    });
  return read;
}

async function refuseNonEmpty(into: string, backup: Restorable): Promise<void> {
  const client = await connect(into, 'cutover:restore');
  try {
    const full: string[] = [];
    for (const t of backup.tables.filter((x) => x.hasData)) {
      const r = parseTableName(t.table) as { schema: string; name: string };
      const { rows } = await client.query(`SELECT 1 FROM ${qualified(r.schema, r.name)} LIMIT 1`);
      if (rows.length) full.push(t.table);
    }
    if (full.length)
      throw conflictError(
        `restore into database ${databaseOf(into)} refused: ${full.join(', ')} already hold rows (restoring the backup's rows needs them empty)`,
      );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A database's name, for messages: never the URL (it may hold a password). */
export function databaseOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || '(default)';
  } catch {
    return '(unparsable URL)';
  }
}
