// Proof that a backup is what it claims: re-read and re-hashed from the store, every touched table
// in its table of contents, and restored into a scratch database (cutover_verify_<runKey>, on the
// target's server, always dropped) where each table holds exactly the rows counted in the dump's
// snapshot. Any difference is a BackupError naming the object and what differs.
import { parseTableName } from '../../plan/names';
import { backupError } from '../errors';
import type { BackupObject, BackupVerification } from '../../common/results';
import { connect, qualified } from '../db/connect';
import type { Progress } from '../db/progress';
import { restoreTables } from '../db/restore-tables';
import { withScratchDatabase } from '../db/scratch-db';

export const scratchName = (runKey: string) => `cutover_verify_${runKey}`;

export async function verifyBackup(
  b: Omit<BackupObject, 'verified'>,
  serverUrl: string,
  runKey: string,
  progress: Progress,
): Promise<BackupVerification> {
  const scratch = scratchName(runKey);
  return withScratchDatabase(serverUrl, scratch, async (url) => {
    const restored = await restoreTables(b, url, { mode: 'new-database', progress });
    progress.update({ phase: 'comparing' });
    const differs: string[] = [];
    const client = await connect(url, 'cutover:verify');
    try {
      for (const t of b.tables) {
        progress.update({ table: t.table });
        const r = parseTableName(t.table) as { schema: string; name: string };
        const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified(r.schema, r.name)}`);
        if (Number(rows[0].n) !== t.rows) differs.push(`${t.table}: ${t.rows} rows in the snapshot, ${rows[0].n} restored`);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    if (differs.length)
      throw backupError(`backup object ${b.location} does not restore to what was dumped: ${differs.join('; ')}`, {
        location: b.location,
        differs,
      });
    const dataTables = b.tables.filter((t) => t.hasData).length;
    return {
      at: new Date().toISOString(),
      sha256: restored.sha256,
      size: restored.size,
      listed: restored.listed,
      scratchDatabase: scratch,
      checks: [
        `re-read from the store: ${restored.size} bytes, sha256 ${restored.sha256}, as when written`,
        `pg_restore --list: ${b.tables.length} tables, the rows of ${dataTables}${b.sequences.length ? ` and ${b.sequences.length} sequence values` : ''}`,
        `restored (schema and data) into scratch database ${scratch}: row counts equal the snapshot's for all ${b.tables.length} tables; scratch database dropped`,
      ],
    };
  });
}
