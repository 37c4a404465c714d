// One `pg_dump -Fc` of a database streamed into the backup store (no local copy), with the row
// counts of the touched tables taken in the very snapshot the dump reads: a REPEATABLE READ
// transaction exports it, counts there, and pg_dump joins it with --snapshot.
import type { Plan } from '../../plan/schema';
import { tableKey } from '../../plan/names';
import type { BackupStore, PutMeta } from '../store';
import type { BackupObject } from '../../common/results';
import { countRows, readScope } from './backup-scope';
import { connect } from '../db/connect';
import { runTool } from '../db/pg-tools';
import type { Progress } from '../db/progress';
import { inTransaction } from '../db/transaction';

export interface DumpRequest {
  kind: BackupObject['kind'];
  alias: string;
  url: string; // resolved from the alias in the worker; never logged
  scope: BackupObject['scope'];
  plan: Plan;
  store: BackupStore;
  key: string;
  meta: PutMeta;
  progress: Progress;
}

export async function dumpToStore(req: DumpRequest): Promise<Omit<BackupObject, 'verified'>> {
  const client = await connect(req.url, `cutover:${req.meta.runKey}:backup`);
  try {
    // The exported snapshot must outlive pg_dump's start: the transaction (read only, never kept) ends
    // only once the dump is stored.
    return await inTransaction(
      client,
      async () => {
        const snapshot = (await client.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0].s;
        const scope = await readScope(client, req.plan, req.alias, req.scope === 'full');
        req.progress.update({ phase: 'counting', backup: req.kind });
        await countRows(client, scope, (table) => req.progress.update({ table }));
        req.progress.tracker.expect(scope.tables.map((t) => ({ table: `${req.kind} ${t.table}`, total: t.rows })));

        req.progress.update({ phase: 'dumping' });
        // Large objects belong to no table: a touched-tables backup leaves them out with the other data.
        const leaveOut = req.scope === 'full' ? [] : ['--no-blobs', ...scope.excludeData.map((p) => `--exclude-table-data=${p}`)];
        // Never a run's staging (since the dry run stages, it is there from gate plan on): copies of the
        // Pilot's rows, not Production's, that a restore must not bring back.
        const dump = runTool('pg_dump', ['--format=custom', `--snapshot=${snapshot}`, '--exclude-schema=cutover_stage_*', ...leaveOut], {
          url: req.url,
          signal: req.progress.signal,
        });
        let stored;
        try {
          stored = await req.store.put(req.key, dump.output, req.meta, (bytes) => req.progress.update({ bytes }));
          await dump.done;
          for (const t of scope.tables) req.progress.tracker.done(`${req.kind} ${t.table}`, t.rows);
        } catch (e) {
          dump.kill(); // the store refused or failed: stop dumping into nothing
          await dump.done.catch(() => undefined);
          throw e;
        }
        return {
          kind: req.kind,
          alias: req.alias,
          scope: req.scope,
          store: req.store.url,
          key: req.key,
          location: stored.url,
          size: stored.size,
          sha256: stored.meta!.sha256,
          snapshot,
          tables: scope.tables.map(({ table, oid, rows, partitionOf, hasData }) => ({
            table,
            oid,
            rows,
            hasData,
            ...(partitionOf ? { partitionOf } : {}),
          })),
          sequences: scope.sequences.map(tableKey),
        };
      },
      { isolation: 'REPEATABLE READ', readOnly: true, end: 'rollback' },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
