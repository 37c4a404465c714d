// The indexes, constraints and triggers (pg_restore's post-data section) of a backup, restored onto
// a database that restoreTables (new-database) filled with its schema and rows: a rehearsal needs
// production's keys, foreign keys and triggers, or the step code would resolve and publish against
// a different catalog. One transaction: it restores whole or not at all.
import { openStore } from '../store';
import type { Restorable } from '../db/restore-tables';
import { runTool, ToolError } from '../db/pg-tools';

const FLAGS = [
  '--section=post-data',
  '--no-owner',
  '--no-privileges',
  '--no-tablespaces',
  '--no-publications',
  '--no-subscriptions',
  '--no-security-labels',
  '--single-transaction',
  '--exit-on-error',
];

/** Resolves when restored; rejects with a ToolError (pg_restore's redacted stderr) when not. */
export async function restorePostData(backup: Pick<Restorable, 'store' | 'key'>, into: string, signal?: AbortSignal): Promise<void> {
  const store = openStore(backup.store);
  const tool = runTool('pg_restore', FLAGS, { url: into, stdin: await store.get(backup.key), signal });
  tool.output.resume();
  await tool.done;
}

export { ToolError };
